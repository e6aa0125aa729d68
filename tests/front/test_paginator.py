"""The capped paginator of the list pages (``arenda/front/paginator.py``): it counts at most
``cap`` + 1 rows, says «N+» past the cap, and its pages stay correct."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenda.directory.models import Counterparty
from arenda.front import paginator as capped
from arenda.front.paginator import CappedPaginator
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve():
    for _ in range(12):
        f.CounterpartyFactory()
    return Counterparty.objects.order_by("name", "pk")


def test_past_the_cap_the_count_stops_and_says_so(twelve):
    pages = CappedPaginator(twelve, 50, cap=5)
    assert pages.capped
    assert pages.count == 5
    assert pages.total_label == "5+"
    # the first page is not cut at the cap: a page holds its whole size
    assert len(pages.get_page(1).object_list) == 12
    assert pages.get_page(1).end_index() == 12


def test_under_the_cap_the_count_is_exact(twelve):
    pages = CappedPaginator(twelve, 5, cap=100)
    assert not pages.capped
    assert pages.count == 12
    assert pages.total_label == "12"
    assert pages.num_pages == 3
    last = pages.get_page(3)
    assert [len(pages.get_page(n).object_list) for n in (1, 2, 3)] == [5, 5, 2]
    assert not last.has_next()
    assert last.end_index() == 12


def test_a_capped_list_offers_the_pages_up_to_the_cap(twelve):
    pages = CappedPaginator(twelve, 5, cap=10)
    assert pages.capped
    assert pages.num_pages == 2
    second = pages.get_page(2)
    assert len(second.object_list) == 5
    assert (second.start_index(), second.end_index()) == (6, 10)
    assert not second.has_next()
    # a page past the cap (an old link, a typed number) opens the last reachable one
    assert pages.get_page(3).number == 2
    assert pages.get_page("x").number == 1


def test_the_count_reads_at_most_cap_plus_one_rows(twelve):
    pages = CappedPaginator(twelve, 50, cap=5)
    with CaptureQueriesContext(connection) as queries:
        assert pages.count == 5
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(" in sql.upper()
    assert "LIMIT 6" in sql.upper()
    # no ORDER BY inside the count: sorting the rows only to count them is wasted
    assert "ORDER BY" not in sql.upper()


def test_the_cap_is_read_when_the_paginator_is_made(twelve, monkeypatch):
    monkeypatch.setattr(capped, "COUNT_CAP", 3)
    assert CappedPaginator(twelve, 50).total_label == "3+"


def test_a_plain_list_is_capped_too():
    pages = CappedPaginator(list(range(12)), 5, cap=10)
    assert pages.capped
    assert pages.count == 10
    assert pages.num_pages == 2
