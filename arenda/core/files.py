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

from django.http import FileResponse

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
