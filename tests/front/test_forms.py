"""The one way a service's refusal lands on a form, and the one inline-validation
handshake (arenda/front/forms.py)."""

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from arenda.core.roles import Role
from arenda.directory.forms import MaintenanceWindowForm
from arenda.front.forms import ServiceErrorsMixin, validate_field_response


class NoteForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField()


def test_a_plain_form_takes_a_services_errors():
    form = NoteForm({"text": "x"})
    assert form.is_valid()
    form.add_service_error(
        ValidationError({"text": "too short", "author": "unknown", NON_FIELD_ERRORS: "closed"})
    )
    assert form.errors["text"] == ["too short"]
    assert form.non_field_errors() == ["unknown", "closed"], "a plain form has no labels to add"


def test_a_plain_form_takes_an_error_without_fields():
    form = NoteForm({"text": "x"})
    form.is_valid()
    form.add_service_error(ValidationError("no"))
    assert form.non_field_errors() == ["no"]


def test_a_model_form_names_the_field_it_does_not_show(make_user):
    form = MaintenanceWindowForm({}, user=make_user(Role.MANAGER))
    form.is_valid()
    form.add_service_error(ValidationError({"unit": "busy", "nonsense": "odd", "reason": "empty"}))
    assert form.errors["reason"][-1] == "empty"
    assert form.non_field_errors() == ["unit: busy", "odd"]


@pytest.fixture
def rf():
    return RequestFactory()


def _htmx(request):
    request.htmx = HtmxDetails(request)  # what django_htmx's middleware sets
    return request


def test_only_an_htmx_post_naming_a_field_is_a_validation(rf):
    form = NoteForm({"text": ""})
    assert (
        validate_field_response(_htmx(rf.get("/", {"_validate": "text"}, HTTP_HX_REQUEST="true")), form)
        is None
    )
    assert validate_field_response(_htmx(rf.post("/", {"_validate": "text"})), form) is None
    assert validate_field_response(_htmx(rf.post("/", {"text": ""}, HTTP_HX_REQUEST="true")), form) is None


def test_a_validation_answers_with_the_fields_errors(rf, db):
    request = _htmx(rf.post("/", {"_validate": "text"}, HTTP_HX_REQUEST="true"))
    form = NoteForm(request.POST)
    response = validate_field_response(request, form)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="id_text-errors"' in html and "<form" not in html
    unknown = _htmx(rf.post("/", {"_validate": "nothing"}, HTTP_HX_REQUEST="true"))
    assert validate_field_response(unknown, NoteForm(unknown.POST)).status_code == 204
