"""An id that is not a number answers 404 on every route of the API — a custom action such
as ``GET deals/abc/comments/`` used to look it up and answer 500."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from arenda.api.errors import server_error
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
    assert response["Content-Type"] == "application/json", (method, path)


def test_an_unknown_api_address_answers_json_and_a_page_answers_html(client):
    api_answer = client.get("/api/v1/no-such-thing/")
    assert api_answer.status_code == 404 and api_answer.json() == {
        "detail": "Не найдено.",
        "code": "not_found",
    }
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_server_error_of_the_api_answers_json(rf):
    response = server_error(rf.get("/api/v1/deals/"))
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert server_error(rf.get("/deals/"))["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "param",
    [
        "start_after=0001-01-01T00:00:00%2B14:00",
        "start_before=9999-12-31T23:59:59-14:00",
        "end_after=0001-01-01T00:00:00%2B01:00",
    ],
)
def test_a_moment_out_of_range_is_400_naming_the_parameter(api, param):
    response = api(Role.ADMIN).get(f"/api/v1/bookings/?{param}")
    assert response.status_code == 400
    assert list(response.json()) == [param.split("=")[0]]
