"""Stored files go out only through views that check the reader's right to their record
(docs/security.md, «Files»); this is how such a view answers.

``file_response`` sends the file with the content type its content was sniffed as (never
one guessed from a name), ``X-Content-Type-Options: nosniff``, a sandboxing
Content-Security-Policy, and a ``Content-Disposition`` that carries the file's display name
RFC 5987-encoded: inline only for the image types a browser shows as a picture, an
attachment for everything else (a PDF too: a polyglot PDF must never be read as a page).
"""

import posixpath
import unicodedata
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _

# Shown in the browser; anything else is downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
# A file is a document of its own, never a page of the app: no script, no plugin, no form.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def display_name(name: str, content_type: str, fallback: str = "file") -> str:
    """The name to offer for a download: the given one without any path, its extension
    replaced by the one of the content's type (``polyglot.html`` holding a PDF is
    ``polyglot.pdf``), so that a saved file never opens as something it is not."""
    base = posixpath.basename(str(name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"\r\n')
    stem, _dot, _ext = base.rpartition(".") if "." in base.lstrip(".") else (base, "", "")
    stem = stem.strip() or fallback
    return stem + EXTENSIONS.get(content_type, "")


def content_disposition(filename: str, *, inline: bool) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 with RFC 5987)."""
    ascii_name = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_"
        for ch in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(ch)
    )
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(handle, *, content_type: str, filename: str) -> FileResponse:
    """A stored file's answer (see the module's docstring)."""
    content_type = content_type or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, inline=content_type in INLINE_TYPES)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, no-store"
    return response


# --- what an uploaded scan is (waybills' scans, drivers' documents) --------------------------
MAX_SCAN_BYTES = 10 * 1024 * 1024
# What a scan may be, told by its first bytes (never by its name or declared type).
SCAN_KINDS = ("jpeg", "png", "webp", "heic", "pdf")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "pdf": "application/pdf",
}


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes (magic numbers), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def scan_kind(file, field: str = "scan") -> str:
    """The kind of an uploaded scan from its content: JPEG, PNG, WebP or HEIC image, or PDF,
    at most 10 MB. Raises a ValidationError on ``field`` otherwise."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    if size > MAX_SCAN_BYTES:
        raise ValidationError(
            {field: _("The scan is too large: at most %(mb)s MB.") % {"mb": MAX_SCAN_BYTES // (1024 * 1024)}},
            code="too_large",
        )
    if size == 0:
        raise ValidationError({field: _("The scan is an empty file.")}, code="empty")
    file.seek(0)
    kind = sniff(file.read(32))
    file.seek(0)
    if kind in ("jpeg", "png", "webp") and not _image_is_whole(file):
        kind = None
    file.seek(0)
    if kind is None:
        raise ValidationError(
            {field: _("The scan must be a photo (JPEG, PNG, WebP, HEIC) or a PDF.")}, code="bad_type"
        )
    return kind


def stored_scan(file_field, content_type: str, name: str, fallback: str):
    """``(open file, content type, download name)`` of a stored scan, or None when there is
    none or its file is gone. A scan stored before its type was kept is sniffed now
    (``application/octet-stream`` if it is none of the kinds). Who may read it is the
    caller's to check (docs/security.md, «Files»)."""
    if not file_field:
        return None
    try:
        handle = file_field.open("rb")
    except FileNotFoundError:
        return None
    if not content_type:
        content_type = CONTENT_TYPES.get(sniff(handle.read(32)), "application/octet-stream")
        handle.seek(0)
    return handle, content_type, display_name(name or file_field.name, content_type, fallback=fallback)


def _image_is_whole(file) -> bool:
    from PIL import Image

    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
    except Exception:  # Pillow raises many kinds for a broken file; all mean "not an image"
        return False
    finally:
        file.seek(0)
    return True
