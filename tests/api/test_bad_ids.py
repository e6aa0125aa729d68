"""An id that is not a number answers 404 on every route of the API — a custom action such
as ``GET deals/abc/comments/`` used to look it up and answer 500."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from arenda.core.roles import Role

pytestmark = pytest.mark.django_db


def _operations_with_an_id():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        if not re.search(r"\{(id|pk|unit_id|deal_id)\}", path):
            continue
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, re.sub(r"\{(id|pk|unit_id|deal_id)\}", "abc", path)


OPERATIONS = sorted(set(_operations_with_an_id()))


def test_there_are_routes_to_check():
    assert len(OPERATIONS) > 40


@pytest.mark.parametrize("method,path", OPERATIONS)
def test_a_non_integer_id_is_404(api, method, path):
    response = getattr(api(Role.ADMIN), method)(path, {}, format="json")
    assert response.status_code == 404, (method, path, response.status_code)
