"""The base of the forms the pages are built with: a form collects and checks input, the
services write."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class ServiceForm(forms.ModelForm):
    """A ModelForm that validates but never saves (services do), knows who fills it in, and
    asks the server to validate each field when the user leaves it."""

    def __init__(self, *args, user, validate_url: str = "", **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.adjust_for_user(user)
        for name, bound in ((name, self[name]) for name in self.fields):
            widget = self.fields[name].widget
            widget.attrs.setdefault("aria-describedby", f"{bound.auto_id}-errors")
            if validate_url and not isinstance(widget, forms.HiddenInput):
                trigger = (
                    "change" if isinstance(widget, forms.CheckboxInput | forms.Select) else "blur changed"
                )
                widget.attrs.update(
                    {
                        "hx-post": validate_url,
                        "hx-trigger": trigger,
                        "hx-target": f"#{bound.auto_id}-errors",
                        "hx-swap": "outerHTML",
                        "hx-vals": f'{{"_validate": "{name}"}}',
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

    def add_service_error(self, exc: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names; the rest on the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = name if name in self.fields and name != NON_FIELD_ERRORS else None
            for error in errors:
                if target is None and name != NON_FIELD_ERRORS:
                    label = self.instance._meta.get_field(name).verbose_name
                    error = ValidationError(f"{label}: {' '.join(error.messages)}")
                self.add_error(target, error)
