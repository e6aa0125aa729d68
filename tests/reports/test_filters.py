"""The counterparty filter of a report sends the chosen counterparty only, not the directory."""

import pytest

from tests import factories as f
from tests.reports.conftest import MONTH

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/reports/plates/" + MONTH + "&", "/reports/receivables/?"])
def test_counterparty_select_holds_only_the_chosen_one(ui, url):
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
