"""Where browsers report what the Content-Security-Policy blocked (settings.py, ``report-uri``):
each report is logged, so a page that breaks the policy shows up in the server's log."""

import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

log = logging.getLogger("arenda.csp")

MAX_REPORT_BYTES = 16 * 1024
_FIELDS = (
    "document-uri",
    "violated-directive",
    "effective-directive",
    "blocked-uri",
    "source-file",
    "line-number",
)


@csrf_exempt  # browsers send reports without a token; the view only logs
@require_POST
def csp_report(request):
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body or b"{}").get("csp-report", {})
    except (ValueError, AttributeError):
        return HttpResponse(status=400)
    if not isinstance(report, dict):
        return HttpResponse(status=400)
    log.warning(
        "CSP violation: %s",
        ", ".join(f"{name}={str(report[name])[:200]}" for name in _FIELDS if name in report),
    )
    return HttpResponse(status=204)
