"""The release bin/upgrade-check upgrades from (.ci/previous-release): a commit of this
history, older than this checkout, whose migrations this checkout keeps and extends — so
the check migrates real data through at least one migration (docs/operations.md, «Upgrade»)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS = (ROOT / ".ci" / "previous-release").read_text().strip()


def _shallow() -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True, text=True
    )
    return result.stdout.strip() != "false"


pytestmark = pytest.mark.skipif(
    not shutil.which("git") or not (ROOT / ".git").exists() or _shallow(),
    reason="needs git and this checkout's history",
)


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def migrations_at(commit: str) -> set[str]:
    names = git("ls-tree", "-r", "--name-only", commit, "--", "arenda").splitlines()
    return {name for name in names if "/migrations/0" in name and name.endswith(".py")}


def test_the_previous_release_is_an_older_commit_of_this_history():
    assert len(PREVIOUS) == 40
    git("merge-base", "--is-ancestor", PREVIOUS, "HEAD")


def test_upgrading_from_it_runs_migrations_and_removes_none():
    before, now = migrations_at(PREVIOUS), migrations_at("HEAD")
    assert before < now, "the previous release's migrations are all kept, and there are new ones"
