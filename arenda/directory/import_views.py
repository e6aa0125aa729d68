"""«Импорт из Excel» and «Скачать XLSX» for counterparties, units and drivers
(docs/import.md): upload → preview → confirm → summary. The uploaded file waits between
the steps in DATA_DIR under a random name, named to the confirm step by a signed token
that expires (and binds the user and the kind)."""

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.directory import importing
from arenda.directory.views import PAGES

KINDS = {"counterparties": "counterparty", "units": "unit", "drivers": "driver"}
MAX_BYTES = 10 * 1024 * 1024
TOKEN_AGE = 3600  # seconds an upload waits for its confirmation
SALT = "arenda.directory.import"


def _kind(slug: str) -> str:
    if slug not in KINDS:
        raise Http404
    return KINDS[slug]


def _page(kind: str):
    return next(page for page in PAGES if page.resource == kind)


def _may_import(user, kind: str) -> bool:
    return can(user, Action.ADD, kind) and can(user, Action.CHANGE, kind)


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    # uploads nobody confirmed go away after a day
    for old in folder.iterdir():
        if old.stat().st_mtime < time.time() - 24 * 3600:
            old.unlink(missing_ok=True)
    return folder


def _store(content: bytes, suffix: str) -> str:
    name = f"{secrets.token_hex(16)}{suffix}"
    (_folder() / name).write_bytes(content)
    return name


def _load(token: str, *, user, kind: str) -> tuple[bytes, str, str]:
    try:
        data = signing.loads(token, salt=SALT, max_age=TOKEN_AGE)
    except signing.BadSignature as exc:
        raise importing.FileError(_("The upload has expired; upload the file again.")) from exc
    if data.get("u") != user.pk or data.get("k") != kind:
        raise importing.FileError(_("The upload has expired; upload the file again."))
    path = _folder() / Path(data["f"]).name
    if not path.exists():
        raise importing.FileError(_("The upload has expired; upload the file again."))
    return path.read_bytes(), data["n"], data["f"]


SHOWN_ROWS = 500


def _table(preview) -> tuple[list[dict], bool]:
    """The preview's rows as cells with their errors: the first SHOWN_ROWS and every bad one."""
    rows = [
        {
            "number": row["number"],
            "status": row["status"],
            "cells": [
                {"value": value, "errors": row["errors"].get(header, [])}
                for header, value in zip(preview.headers, row["values"], strict=False)
            ],
        }
        for index, row in enumerate(preview.rows)
        if index < SHOWN_ROWS or row["status"] == "error"
    ]
    return rows, len(rows) < len(preview.rows)


def _context(kind: str, slug: str, **extra) -> dict:
    page = _page(kind)
    if "preview" in extra:
        extra["table"], extra["table_cut"] = _table(extra["preview"])
    return {
        "page": page,
        "kind": kind,
        "slug": slug,
        "title": importing.TITLES[kind],
        "columns": importing.COLUMNS[kind],
        **extra,
    }


@require_http_methods(["GET", "POST"])
def import_view(request, slug):
    kind = _kind(slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _may_import(request.user, kind):
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "directory/import_upload.html", _context(kind, slug))
    upload = request.FILES.get("file")
    error = None
    if upload is None:
        error = _("Choose a file.")
    elif upload.size > MAX_BYTES:
        error = _("The file is larger than 10 MB.")
    if error is None:
        content = upload.read()
        try:
            result = importing.preview(kind, content, upload.name, user=request.user)
        except importing.FileError as exc:
            error = str(exc)
    if error is not None:
        return render(request, "directory/import_upload.html", _context(kind, slug, error=error), status=400)
    token = ""
    if result.ok:
        suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
        stored = _store(content, suffix)
        token = signing.dumps({"f": stored, "n": upload.name, "u": request.user.pk, "k": kind}, salt=SALT)
    return render(
        request,
        "directory/import_preview.html",
        _context(kind, slug, preview=result, token=token, filename=upload.name),
        status=200 if result.ok else 400,
    )


@require_POST
def import_confirm(request, slug):
    kind = _kind(slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _may_import(request.user, kind):
        raise PermissionDenied
    try:
        content, filename, stored = _load(request.POST.get("token", ""), user=request.user, kind=kind)
        result = importing.run_import(kind, content, filename, user=request.user)
    except importing.FileError as exc:
        return render(
            request, "directory/import_upload.html", _context(kind, slug, error=str(exc)), status=400
        )
    except importing.ImportRefused as exc:
        return render(
            request,
            "directory/import_preview.html",
            _context(kind, slug, preview=exc.preview, token="", filename=filename),
            status=400,
        )
    (_folder() / stored).unlink(missing_ok=True)
    counts = result.counts
    messages.success(
        request,
        _("Imported: %(new)s new, %(update)s updated, %(unchanged)s unchanged.") % counts,
    )
    return render(
        request, "directory/import_done.html", _context(kind, slug, preview=result, filename=filename)
    )


@require_GET
def import_template(request, slug):
    kind = _kind(slug)
    return _protected_download(
        request, kind, Action.VIEW, lambda: importing.template_xlsx(kind), f"{slug}-template"
    )


@require_GET
def export_xlsx(request, slug):
    kind = _kind(slug)
    page = _page(kind)

    def content():
        queryset = page.filterset.for_page(request.GET, queryset=page.queryset()).qs
        return importing.export_xlsx(kind, queryset)

    return _protected_download(request, kind, Action.VIEW, content, slug)


def _protected_download(request, kind, action, content, name):
    @require(action, kind)
    def view(request):
        response = HttpResponse(content(), content_type=importing.XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response

    return view(request)
