"""A report's record filter (the plates' and the receivables' counterparty, the payroll's
driver) is typed and picked (docs/autocomplete.md): no page renders the directory; the
URL keeps ``?counterparty=<id>``; typed text without JavaScript resolves through the lookup's
matcher; an unknown id is a 400 naming the field."""

import pytest

from tests import factories as f
from tests.reports.conftest import MONTH

pytestmark = pytest.mark.django_db
URLS = ["/reports/plates/" + MONTH + "&", "/reports/receivables/?"]


@pytest.mark.parametrize("url", URLS)
def test_no_page_renders_the_directory_and_the_chosen_one_shows_its_name(ui, url):
    chosen = f.CounterpartyFactory(name="Chosen Ltd")
    f.CounterpartyFactory(name="Other Ltd")
    client = ui("manager")

    page = client.get(f"{url}counterparty={chosen.pk}").content.decode()
    assert "Chosen Ltd" in page and "Other Ltd" not in page
    assert f'name="counterparty" value="{chosen.pk}"' in page
    assert "<option" not in page.split('name="counterparty"')[0].rsplit("<label", 1)[-1]

    page = client.get(url).content.decode()
    assert "Chosen Ltd" not in page and "Other Ltd" not in page


@pytest.mark.parametrize("url", URLS)
def test_typed_text_resolves_and_an_unknown_id_names_the_field(ui, url):
    chosen = f.CounterpartyFactory(name="Chosen Ltd")
    client = ui("manager")
    page = client.get(f"{url}counterparty=&counterparty__text=chosen").content.decode()
    assert f'name="counterparty" value="{chosen.pk}"' in page

    bad = client.get(f"{url}counterparty=999999")
    assert bad.status_code == 400
    assert "counterparty" in bad.content.decode()


def test_the_payroll_filters_by_a_driver_typed_or_picked(ui):
    driver = f.DriverFactory(full_name="Иванов Пётр Сергеевич")
    f.DriverFactory(full_name="Сидоров Олег")
    client = ui("director")
    url = "/reports/payroll/" + MONTH
    page = client.get(f"{url}&driver={driver.pk}").content.decode()
    assert f'name="driver" value="{driver.pk}"' in page and "Сидоров Олег" not in page
    typed = client.get(f"{url}&driver=&driver__text=иванов").content.decode()
    assert f'name="driver" value="{driver.pk}"' in typed
