import pytest
from django.test import override_settings

from arenda.core.roles import Role

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_a_refused_page_says_so_in_the_layout(ui):
    response = ui(Role.DIRECTOR).get("/directory/counterparties/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Нет доступа" in html or "No access" in html
    assert 'class="card narrow"' in html


@override_settings(DEBUG=False)
def test_a_missing_page_is_a_friendly_404(ui):
    response = ui(Role.MANAGER).get("/directory/counterparties/999999/")
    assert response.status_code == 404
    assert 'class="card narrow"' in response.content.decode()


def test_phones_do_not_break_across_lines():
    from arenda.front.templatetags.arenda_ui import phone

    shown = phone("+79123456789")
    assert " " not in shown and "-" not in shown and "912" in shown
