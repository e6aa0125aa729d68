"""Every list page counts its rows through the capped paginator (``arenda/front/paginator.py``):
with the cap patched to 5, twelve rows read «5+» and the page says how to reach the rest,
its rows all shown; a capped list's pages stay reachable by ``?page=``."""

import pytest
from django.urls import reverse

from arenda.core.roles import Role
from arenda.front import crud
from arenda.front import paginator as capped
from arenda.front.paginator import CappedPaginator
from tests import factories as f
from tests.ui.test_list_queries import CASES

pytestmark = pytest.mark.django_db

PAGES = [name for name, (_make, page_url, _api) in CASES.items() if page_url is not None]


@pytest.mark.parametrize("case", PAGES)
def test_a_list_past_the_cap_says_more_than_the_cap(ui, case, monkeypatch):
    make, page_url, _api = CASES[case]
    for _ in range(12):
        make()
    monkeypatch.setattr(capped, "COUNT_CAP", 5)
    response = ui(Role.ADMIN).get(page_url())
    assert response.status_code == 200
    page_obj = response.context.get("page_obj")
    if page_obj is None:
        pytest.skip(f"{case}: a board, not paginated")
    assert isinstance(page_obj.paginator, CappedPaginator)
    assert page_obj.paginator.capped
    assert len(page_obj.object_list) == 12
    content = response.content.decode()
    assert "pagination-capped" in content
    assert "Narrow the search" in content


def test_a_capped_list_pages_up_to_the_cap(ui, monkeypatch):
    for _ in range(12):
        f.CounterpartyFactory()
    monkeypatch.setattr(capped, "COUNT_CAP", 10)
    monkeypatch.setattr(crud, "PAGE_SIZE", 5)
    client = ui(Role.ACCOUNTANT)
    url = reverse("directory:counterparty_list")
    first = client.get(url)
    assert "Page 1 of 2+" in first.content.decode()
    assert "Showing 1–5 of 10+" in first.content.decode()
    second = client.get(url + "?page=2")
    assert len(second.context["rows"]) == 5
    assert "Showing 6–10 of 10+" in second.content.decode()
    # past the cap: the last reachable page, not an error
    beyond = client.get(url + "?page=3")
    assert beyond.status_code == 200
    assert beyond.context["page_obj"].number == 2


def test_a_list_under_the_cap_reads_its_count(ui, monkeypatch):
    for _ in range(7):
        f.CounterpartyFactory()
    monkeypatch.setattr(crud, "PAGE_SIZE", 5)
    response = ui(Role.ACCOUNTANT).get(reverse("directory:counterparty_list"))
    content = response.content.decode()
    assert "Page 1 of 2" in content
    assert "Page 1 of 2+" not in content
    assert "Showing 1–5 of 7" in content
    assert "pagination-capped" not in content
