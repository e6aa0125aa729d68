"""One error shape for the whole API: ``{"field": [messages]}`` for invalid input, and
``{"detail", "code", …}`` for everything else (``docs/api.md``, "Errors") — also when no
route matched (``GET deals/abc/comments/``: the routes take integer ids) or the server
failed: Django's error handlers (``arenda/urls.py``) answer JSON under ``/api/`` and the
templates of ``front/templates`` (404.html, 500.html) elsewhere."""

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from arenda.billing.services import BillingRefused
from arenda.bookings.services import BookingConflict
from arenda.core.services import RecordInUse
from arenda.crm.services import FunnelRefused

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def validation_error_data(exc: DjangoValidationError) -> dict:
    """A Django ValidationError as DRF names it: by field, the rest under non_field_errors."""
    data = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return {(api_settings.NON_FIELD_ERRORS_KEY if k == NON_FIELD_ERRORS else k): v for k, v in data.items()}


def _conflict(detail, code: str, **extra) -> Response:
    return Response({"detail": detail, "code": code, **extra}, status=status.HTTP_409_CONFLICT)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_data(exc))
    elif isinstance(exc, RecordInUse):
        return _conflict(
            _("“%(record)s” is still referred to by other records and cannot be deleted.")
            % {"record": exc.instance},
            "in_use",
            referenced_by=[
                {"model": str(obj._meta.verbose_name), "id": obj.pk, "name": str(obj)}
                for obj in exc.protected
            ],
        )
    elif isinstance(exc, BookingConflict):
        # ``missing`` only where there is one (driver_not_qualified): the others' bodies as before.
        extra = {"missing": exc.missing} if exc.missing is not None else {}
        return _conflict(
            exc.detail,
            exc.code,
            conflicts=[
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in c.items()}
                for c in exc.conflicts
            ],
            **extra,
        )
    elif isinstance(exc, BillingRefused):
        return _conflict(exc.detail, exc.code, **exc.extra)
    elif isinstance(exc, FunnelRefused):
        return _conflict(exc.detail, exc.code)
    elif isinstance(exc, IntegrityError):
        # The services validate first, so this is a race with a concurrent write.
        log.warning("integrity error in the API: %s", exc)
        return _conflict(_("The change conflicts with the current data. Reload and try again."), "conflict")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, list):
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    elif isinstance(response.data, dict) and "detail" in response.data and "code" not in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", None) or "error"
    return response


def page_not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("A server error occurred."), "code": "error"}, status=500)
    return defaults.server_error(request)
