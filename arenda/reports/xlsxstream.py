"""A small streaming XLSX writer: one sheet, written row by row straight into a zip stream.

Why hand-written: openpyxl (even its write-only mode) needs ~25-40 s for a year of trips
(200,000+ rows x ~12 columns) and only gives the first byte once the whole file exists, so a
proxy times the download out. Formatting the sheet XML ourselves and deflating it on the fly
is an order of magnitude faster, and the first compressed bytes leave while the rows are still
being read. Memory stays at about one chunk whatever the number of rows.

What of SpreadsheetML (ECMA-376) it writes, and nothing more:

* ``[Content_Types].xml``, ``_rels/.rels``, ``xl/workbook.xml`` (one sheet; a hidden
  ``_xlnm._FilterDatabase`` name for the autofilter), ``xl/_rels/workbook.xml.rels``,
  ``xl/styles.xml`` and ``xl/worksheets/sheet1.xml``. No shared strings (text is written as
  inline strings), no docProps, no formulas.
* The sheet: title lines (bold, column A), a bold header row frozen together with the
  title lines, column widths, the data rows, an optional bold totals row, and an
  ``<autoFilter>`` over the header and the data rows. The autofilter comes after
  ``sheetData`` in the schema, so it is written once the number of rows is known; the
  workbook part that names the filter range is written after the sheet for the same reason
  (the order of the parts in a zip does not matter to readers).
* Cells: text as inline strings (illegal XML 1.0 characters removed; text starting with
  ``= + - @``, a tab or a CR gets a leading apostrophe so no spreadsheet runs it as a
  formula); int/float/Decimal as numbers in the column's number format (Decimal written
  exactly); date/datetime as serial numbers of the 1900 date system; bool as a boolean;
  None as an omitted cell; anything else as its ``str()``.

Zip64: the sheet member is *not* written with ``force_zip64``. Python's zipfile, writing to
an unseekable stream with ``force_zip64=True``, puts 0xFFFFFFFF sizes and a Zip64 extra field
in the local header and 8-byte sizes in the data descriptor even for a small member. openpyxl
and Python's zipfile read that fine (checked), but Microsoft Excel reports a small file with
exactly such a header as corrupt (the known Excel/Zip64 incompatibility that Apache POI,
minizip-ng and SharpCompress all had to work around). Without Zip64 a member must
stay under 4 GiB uncompressed; a sheet is capped at Excel's 1,048,576 rows anyway, which at
our row sizes (~200 bytes) is ~0.2 GiB, and the writer raises ``ValueError`` before a limit is
crossed instead of producing a broken file.

Usage::

    response = StreamingHttpResponse(
        stream_xlsx(sheet_title=..., title_lines=[...], columns=[Column("Date", "date"), ...],
                    rows=report.iter_rows(), totals=[...]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
"""

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import quoteattr

__all__ = ["Column", "KINDS", "MAX_ROWS", "stream_xlsx"]

MAX_ROWS = 1_048_576  # Excel's row limit
MAX_COLUMNS = 16_384
MAX_CELL_TEXT = 32_767  # Excel's limit on the characters in a cell
_MEMBER_LIMIT = 0xFFFFFFFF - (1 << 20)  # stay clear of the 4 GiB non-Zip64 member size

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# kind → number format code (None: no number format, "General").
NUMBER_FORMATS = {
    "text": None,
    "number": None,
    "date": "DD.MM.YYYY",
    "datetime": "DD.MM.YYYY HH:MM",
    "money": "#,##0.00",
    "hours": "0.00",
    "km": "0.0",
    "int": "0",
    "percent": "0.0%",
}
KINDS = tuple(NUMBER_FORMATS)

# Cell style indexes (cellXfs): 0 plain, 1 bold, then one plain and one bold style per format.
_FORMATTED = [k for k, fmt in NUMBER_FORMATS.items() if fmt]
_STYLE = {"text": 0, "number": 0} | {k: 2 + i for i, k in enumerate(_FORMATTED)}
_BOLD_STYLE = {"text": 1, "number": 1} | {k: 2 + len(_FORMATTED) + i for i, k in enumerate(_FORMATTED)}

_DATE_STYLE = _STYLE["date"]

# Characters XML 1.0 does not allow (tab, LF and CR are allowed), lone surrogates, U+FFFE/FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text that needs escaping or cleaning before it goes into the sheet.
_NEEDS_WORK = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

# Serial 0 of the 1900 date system, counted back from March 1900 (past the fake 1900-02-29).
_EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()


@dataclass
class Column:
    """A sheet column: header label, kind of its values (see ``KINDS``) and width in characters."""

    label: str
    kind: str
    width: float = 14

    def __post_init__(self):
        if self.kind not in NUMBER_FORMATS:
            raise ValueError(f"unknown column kind {self.kind!r}; expected one of {', '.join(KINDS)}")


def stream_xlsx(
    *,
    sheet_title: str,
    title_lines: list[str],
    columns: list[Column],
    rows: Iterable[Sequence],
    totals: Sequence | None = None,
    chunk_size: int = 64 * 1024,
) -> Iterator[bytes]:
    """Yield an .xlsx file as compressed chunks of about ``chunk_size`` bytes.

    ``rows`` is consumed lazily, one row at a time; a row may be shorter than ``columns``
    (missing cells are empty) but not longer. ``totals`` (optional) is written in bold right
    after the data rows and is not covered by the autofilter. Errors about the arguments are
    raised on the first ``next()``; an exception from ``rows`` propagates (the file is then
    incomplete — the caller's response is cut off).
    """
    if not columns:
        raise ValueError("at least one column is needed")
    if len(columns) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} columns fit in a sheet")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")

    sink = _Sink()
    letters = [column_letter(i) for i in range(1, len(columns) + 1)]
    last = letters[-1]
    header_row = len(title_lines) + 1
    to_local = _local_time_converter()

    # Level 1: the sheet is repetitive XML, which the fastest deflate level still packs well,
    # at a fraction of the default level's time (docs/speed.md, «Exports»).
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _styles_xml())

        with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
            written = 0
            parts: list[str] = [_sheet_head(columns, header_row)]
            pending = len(parts[0])

            def flush():
                nonlocal written, pending
                data = "".join(parts).encode()
                parts.clear()
                pending = 0
                written += len(data)
                if written > _MEMBER_LIMIT:
                    raise ValueError("the sheet XML would exceed 4 GiB; export fewer rows or columns")
                sheet.write(data)

            for n, line in enumerate(title_lines, start=1):
                parts.append(f'<row r="{n}">{_text_cell(f"A{n}", str(line), 1)}</row>')
            header = "".join(
                _text_cell(f"{letter}{header_row}", c.label, 1)
                for letter, c in zip(letters, columns, strict=True)
            )
            parts.append(f'<row r="{header_row}">{header}</row>')

            styles = [_STYLE[c.kind] for c in columns]
            kinds = [c.kind for c in columns]
            # per column, once: the start of a cell's tag and a number cell's middle
            heads = [f'<c r="{letter}' for letter in letters]
            number_mids = [f'" s="{style}"><v>' if style else '"><v>' for style in styles]
            row_limit = MAX_ROWS - (1 if totals is not None else 0)
            r = header_row
            for row in rows:
                r += 1
                if r > row_limit:
                    raise ValueError(f"more rows than a sheet holds ({MAX_ROWS})")
                row_xml = _data_row_xml(r, row, heads, number_mids, letters, styles, kinds, to_local)
                parts.append(row_xml)
                pending += len(row_xml)
                if pending >= chunk_size:
                    flush()
                    if sink.size >= chunk_size:
                        yield sink.take()
            last_data_row = r
            if totals is not None:
                bold = [_BOLD_STYLE[c.kind] for c in columns]
                parts.append(_row_xml(r + 1, totals, letters, bold, kinds, bold=True, to_local=to_local))
            parts.append(f'</sheetData><autoFilter ref="A{header_row}:{last}{last_data_row}"/>')
            parts.append(
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            )
            parts.append("</worksheet>")
            flush()
        if sink.size >= chunk_size:
            yield sink.take()

        name = sheet_name(sheet_title)
        zf.writestr(
            "xl/workbook.xml",
            _workbook_xml(name, f"$A${header_row}:${last}${last_data_row}"),
        )
    yield sink.take()


# --- cells -------------------------------------------------------------------------------------
def _data_row_xml(r, values, heads, number_mids, letters, styles, kinds, to_local) -> str:
    """A data row: numbers and plain text, which are nearly every cell of an export, are
    written here from the per-column pieces; any other value goes through ``_row_xml``'s
    general path, cell by cell."""
    if len(values) > len(heads):
        raise ValueError(f"row {r} has {len(values)} values for {len(heads)} columns")
    rs = str(r)
    cells = []
    append = cells.append
    for i, value in enumerate(values):
        if value is None:
            continue
        t = type(value)
        if t is Decimal:
            text = str(value)
            if "E" not in text and text[-1].isdigit():
                append(f"{heads[i]}{rs}{number_mids[i]}{text}</v></c>")
                continue
        elif t is int:
            append(f"{heads[i]}{rs}{number_mids[i]}{value}</v></c>")
            continue
        elif t is date:
            serial = _date_serial(value)
            if serial is not None:
                append(f'{heads[i]}{rs}" s="{_DATE_STYLE}"><v>{serial}</v></c>')
                continue
        elif t is str and not (
            _NEEDS_WORK.search(value) or value.startswith(FORMULA_STARTS) or len(value) > MAX_CELL_TEXT
        ):
            append(f'{heads[i]}{rs}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>')
            continue
        # the rest (dates, floats, bools, text needing escapes, exotic numbers): one cell
        one = _row_xml(r, (value,), (letters[i],), (styles[i],), (kinds[i],), bold=False, to_local=to_local)
        append(one[len(f'<row r="{r}">') : -len("</row>")])
    return f'<row r="{r}">{"".join(cells)}</row>'


def _row_xml(r, values, letters, styles, kinds, *, bold, to_local) -> str:
    if len(values) > len(letters):
        raise ValueError(f"row {r} has {len(values)} values for {len(letters)} columns")
    text_style = ' s="1"' if bold else ""
    date_styles = _BOLD_STYLE if bold else _STYLE
    cells = []
    append = cells.append
    # The common types are handled inline: this loop runs for every cell of the export.
    for letter, value, style, kind in zip(letters, values, styles, kinds, strict=False):
        if value is None:
            continue
        t = type(value)
        if t is str:
            if _NEEDS_WORK.search(value) or value.startswith(FORMULA_STARTS) or len(value) > MAX_CELL_TEXT:
                append(_text_cell(f"{letter}{r}", value, 1 if bold else 0))
            else:
                append(
                    f'<c r="{letter}{r}" t="inlineStr"{text_style}><is><t xml:space="preserve">{value}</t></is></c>'
                )
            continue
        if t is Decimal:
            text = str(value)
            if "E" in text or not text[-1].isdigit():  # exponent form, NaN or Infinity
                text = _number_text(value)
        elif t is int:
            text = str(value)
        elif t is float:
            text = repr(value) if math.isfinite(value) else None
        elif t is bool:
            append(f'<c r="{letter}{r}" t="b"{text_style}><v>{int(value)}</v></c>')
            continue
        elif isinstance(value, datetime):
            value = to_local(value)
            serial = _datetime_serial(value)
            key = "date" if kind == "date" else "datetime"
            append(_serial_cell(f"{letter}{r}", serial, value, date_styles[key], bold))
            continue
        elif isinstance(value, date):
            append(_serial_cell(f"{letter}{r}", _date_serial(value), value, date_styles["date"], bold))
            continue
        elif isinstance(value, int | float | Decimal):  # subclasses: IntEnum, numpy floats…
            text = _number_text(value)
        else:
            append(_text_cell(f"{letter}{r}", str(value), 1 if bold else 0))
            continue
        if text is not None:  # NaN and infinities have no spreadsheet value: left empty
            append(
                f'<c r="{letter}{r}" s="{style}"><v>{text}</v></c>'
                if style
                else f'<c r="{letter}{r}"><v>{text}</v></c>'
            )
    return f'<row r="{r}">{"".join(cells)}</row>'


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


def _text_cell(ref: str, value: str, style: int) -> str:
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    if len(value) > MAX_CELL_TEXT:
        value = value[:MAX_CELL_TEXT]
    return (
        f'<c r="{ref}" t="inlineStr"{_s(style)}><is><t xml:space="preserve">{escape_text(value)}</t></is></c>'
    )


def _serial_cell(ref, serial, value, style, bold) -> str:
    if serial is None:  # before 1900: no serial exists, keep the ISO text
        return _text_cell(ref, value.isoformat(), 1 if bold else 0)
    return f'<c r="{ref}" s="{style}"><v>{serial}</v></c>'


def _number_text(value) -> str | None:
    """The number as XML text; None for NaN/infinity (no spreadsheet number can hold them)."""
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else None
    return str(int(value))


def _date_serial(value: date) -> int | None:
    """Days in the 1900 date system; None before 1900 (Excel has no serial for those)."""
    days = value.toordinal() - _EXCEL_EPOCH_ORDINAL
    if days < 61:  # Excel counts the non-existent 1900-02-29: before March 1900, one less
        return days - 1 if value.year >= 1900 else None
    return days


def _datetime_serial(value: datetime) -> str | None:
    days = _date_serial(value)
    if days is None:
        return None
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if not seconds:
        return str(days)
    return repr(round(days + seconds / 86400, 10))


def _local_time_converter():
    """Aware datetimes → Django's current time zone when Django is configured, else as given."""
    try:
        from django.conf import settings
        from django.utils import timezone
    except ImportError:  # pragma: no cover - Django is a dependency of the project
        return lambda value: value
    if not settings.configured or not settings.USE_TZ:
        return lambda value: value

    def to_local(value: datetime) -> datetime:
        return timezone.localtime(value) if value.tzinfo is not None else value

    return to_local


def escape_text(value: str) -> str:
    """XML-escape text content, dropping characters XML 1.0 forbids; CR kept as a reference."""
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")  # a literal CR would be read back as LF
    return value


def column_letter(index: int) -> str:
    """1 → A, 26 → Z, 27 → AA, 30 → AD, 16384 → XFD."""
    if index < 1:
        raise ValueError("column indexes start at 1")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sheet_name(title: str) -> str:
    """A name Excel accepts: no []:*?/\\ nor illegal XML characters, no leading/trailing
    apostrophe, at most 31 characters, not empty."""
    name = _ILLEGAL_XML.sub("", _SHEET_NAME_FORBIDDEN.sub("", title or "")).strip()
    name = name[:31].strip("'").strip()
    return name or "Sheet1"


# --- the parts ---------------------------------------------------------------------------------
class _Sink:
    """The unseekable file the zip is written into: a buffer the generator drains."""

    def __init__(self):
        self._buffer = bytearray()

    def write(self, data) -> int:
        self._buffer += data
        return len(data)

    def flush(self):
        pass

    @property
    def size(self) -> int:
        return len(self._buffer)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_CONTENT_TYPES = (
    _XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    _XML_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)


def _styles_xml() -> str:
    num_fmts = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode={quoteattr(NUMBER_FORMATS[k])}/>'
        for i, k in enumerate(_FORMATTED)
    )
    plain = [
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i in range(len(_FORMATTED))
    ]
    bold = [
        f'<xf numFmtId="{164 + i}" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
        for i in range(len(_FORMATTED))
    ]
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        *plain,
        *bold,
    ]
    return (
        f'{_XML_DECL}<styleSheet xmlns="{_NS_MAIN}">'
        f'<numFmts count="{len(_FORMATTED)}">{num_fmts}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _sheet_head(columns: list[Column], header_row: int) -> str:
    top = f"A{header_row + 1}"
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{float(c.width):g}" customWidth="1"/>'
        for i, c in enumerate(columns, start=1)
    )
    return (
        f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<sheetViews><sheetView workbookViewId="0">'
        f'<pane ySplit="{header_row}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def _workbook_xml(name: str, filter_range: str) -> str:
    quoted = "'" + name.replace("'", "''") + "'"
    return (
        f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name={quoteattr(name)} sheetId="1" r:id="rId1"/></sheets>'
        "<definedNames>"
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{escape_text(quoted)}!{filter_range}</definedName>"
        "</definedNames></workbook>"
    )
