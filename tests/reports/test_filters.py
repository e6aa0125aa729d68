"""The counterparty filter of a report: the whole list while it is short, the chosen
counterparty only once the directory is long (it is not sent in every page)."""

import pytest

from arenda.reports.core import SelectedOnly
from tests import factories as f
from tests.reports.conftest import MONTH

pytestmark = pytest.mark.django_db
URLS = ["/reports/plates/" + MONTH + "&", "/reports/receivables/?"]


@pytest.mark.parametrize("url", URLS)
def test_a_short_directory_is_offered_whole(ui, url):
    chosen = f.CounterpartyFactory(name="Chosen Ltd")
    f.CounterpartyFactory(name="Other Ltd")
    page = ui("manager").get(f"{url}counterparty={chosen.pk}").content.decode()
    assert f'<option value="{chosen.pk}" selected>Chosen Ltd</option>' in page
    assert "Other Ltd" in page


@pytest.mark.parametrize("url", URLS)
def test_a_long_directory_sends_only_the_chosen_one(ui, url, monkeypatch):
    monkeypatch.setattr(SelectedOnly, "FULL_LIST_LIMIT", 1)
    chosen = f.CounterpartyFactory(name="Chosen Ltd")
    f.CounterpartyFactory(name="Other Ltd")
    client = ui("manager")

    page = client.get(f"{url}counterparty={chosen.pk}").content.decode()
    assert f'<option value="{chosen.pk}" selected>Chosen Ltd</option>' in page
    assert "Other Ltd" not in page

    page = client.get(url).content.decode()
    assert "Chosen Ltd" not in page and "Other Ltd" not in page

    bad = client.get(f"{url}counterparty=999999")
    assert bad.status_code == 400
    assert "counterparty" in bad.content.decode()
