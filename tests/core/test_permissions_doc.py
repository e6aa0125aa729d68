from pathlib import Path

from arenda.core.roles import matrix_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_permissions_doc_matches_the_matrix_in_code():
    text = DOC.read_text(encoding="utf-8")
    documented = text.split("<!-- matrix:start -->")[1].split("<!-- matrix:end -->")[0].strip()
    assert documented == matrix_markdown()
