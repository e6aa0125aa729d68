"""The base of the forms the pages are built with: a form collects and checks input, the
services write. A service's refusal comes back onto the form through
``ServiceErrorsMixin.add_service_error``; a field's inline validation (asked by
``ServiceForm`` when the user leaves the field) is answered by ``validate_field_response``."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from arenda.front.lookup import LookupField, LookupWidget

# The POST key naming the field to validate inline.
VALIDATE = "_validate"


class ServiceErrorsMixin:
    """For a form (``forms.Form`` or ``forms.ModelForm``) whose data a service checks again."""

    def add_service_error(self, exc: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names; the rest on the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = name if name in self.fields and name != NON_FIELD_ERRORS else None
            label = self.error_label(name) if target is None and name != NON_FIELD_ERRORS else None
            for error in errors:
                if label is not None:
                    error = ValidationError(f"{label}: {' '.join(error.messages)}")
                self.add_error(target, error)

    def error_label(self, name: str):
        """Hook: the label that introduces an error about a field the form does not show
        (the error then stands above the form); None: the message alone."""
        return None


def validate_field_response(request, form):
    """The answer to an inline validation request (an HTMX POST with ``_validate=<field>``):
    that field's errors, or 204 for a field the form does not have. None for any other
    request, which the view then handles as usual."""
    if request.method != "POST" or not request.htmx or VALIDATE not in request.POST:
        return None
    form.is_valid()
    name = request.POST[VALIDATE]
    if name not in form.fields:
        return HttpResponse(status=204)
    return render(request, "front/form_fields.html#field-errors", {"field": form[name]})


class ServiceForm(ServiceErrorsMixin, forms.ModelForm):
    """A ModelForm that validates but never saves (services do), knows who fills it in, and
    asks the server to validate each field when the user leaves it.

    ``lookups`` names the model's foreign keys chosen by typing rather than from a select
    (``arenda/front/lookup.py``): ``{"counterparty": "counterparty"}`` (field: kind), or
    ``{"supplier": ("supplier", "active")}`` (field: kind and scope)."""

    lookups: dict[str, str | tuple[str, str]] = {}

    def __init__(self, *args, user, validate_url: str = "", **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for name, kind in self.lookups.items():
            kind, scope = (kind, "") if isinstance(kind, str) else kind
            if name in self.fields:
                self.fields[name] = LookupField.replacing(self.fields[name], kind, scope=scope)
        self.adjust_for_user(user)
        for name, bound in ((name, self[name]) for name in self.fields):
            widget = self.fields[name].widget
            widget.attrs.setdefault("aria-describedby", f"{bound.auto_id}-errors")
            if validate_url and not isinstance(widget, forms.HiddenInput):
                trigger = (
                    "change"
                    if isinstance(widget, forms.CheckboxInput | forms.Select | LookupWidget)
                    else "blur changed"
                )
                widget.attrs.update(
                    {
                        "hx-post": validate_url,
                        "hx-trigger": trigger,
                        "hx-target": f"#{bound.auto_id}-errors",
                        "hx-swap": "outerHTML",
                        "hx-vals": f'{{"{VALIDATE}": "{name}"}}',
                    }
                )

    def _post_clean(self):
        super()._post_clean()
        # A model may check a value both in a field validator and in clean(); say it once.
        for name, errors in self.errors.items():
            unique = []
            for error in errors.as_data():
                if error.messages not in [u.messages for u in unique]:
                    unique.append(error)
            if len(unique) < len(errors):
                self._errors[name] = self.error_class(unique, renderer=self.renderer)

    def adjust_for_user(self, user) -> None:
        """Hook: drop or lock fields the user may not set."""

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and not self.fields[name].disabled
        }

    def error_label(self, name: str):
        """The model's name for the field (a rule the form cannot show on a field of its own)."""
        try:
            return self.instance._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            return None
