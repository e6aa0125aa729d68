"""Exports of a report: CSV streamed row by row, XLSX written by openpyxl's write-only
workbook to a temporary file and streamed from it. Both read the rows through
``Report.iter_rows`` (a server-side iterator), so memory does not grow with the period.

Text that a spreadsheet would run as a formula (it begins with = + - @, a tab or a CR)
gets a leading apostrophe; numbers and dates stay numbers and dates."""

import csv
import io
import os
import tempfile
from datetime import date
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from arenda.reports.core import report_queries

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMATS = {
    "date": "DD.MM.YYYY",
    "money": "#,##0.00",
    "hours": "0.00",
    "km": "0.0",
    "number": "General",
    "percent": "0.0%",
    "int": "0",
}
FLUSH_EVERY = 500


def neutralise(value):
    """Text that would start a formula gets a leading apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _filename(report, ext: str) -> str:
    p = report.period
    stamp = f"{p.start:%Y-%m-%d}_{p.end:%Y-%m-%d}" if p else f"{report.data['as_of']:%Y-%m-%d}"
    return f"{report.slug}_{stamp}.{ext}"


def _totals_cells(report, columns) -> list:
    totals = report.visible_totals()
    cells = []
    for c in columns:
        if c.key in totals and c.kind not in ("text", "date"):
            cells.append(totals[c.key])
        else:
            cells.append(None)
    if columns and cells[0] is None:
        cells[0] = _("Total")
    return cells


# --- CSV --------------------------------------------------------------------------------------
def _csv_value(value, decimal_comma: bool):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal | float | int):
        text = str(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_response(report, *, keys_in_header: bool = False) -> StreamingHttpResponse:
    """UTF-8 with a BOM (Excel reads it as UTF-8); ``sep=semicolon`` writes ; and decimal
    commas, as Excel in a Russian locale expects."""
    semicolon = report.data.get("sep") == "semicolon"
    delimiter = ";" if semicolon else ","
    columns = report.visible_columns
    language = translation.get_language()
    header = [c.key if keys_in_header else str(c.label) for c in columns]

    def generate():
        with translation.override(language):
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(header)
            yield "\ufeff" + buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            for n, row in enumerate(report.iter_rows(), start=1):
                writer.writerow([_csv_value(row.get(c.key), semicolon) for c in columns])
                if n % FLUSH_EVERY == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            with report_queries():
                totals = _totals_cells(report, columns)
            writer.writerow([_csv_value(v, semicolon) for v in totals])
            yield buffer.getvalue()

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


# --- XLSX -------------------------------------------------------------------------------------
def _xlsx_cell(ws, value, kind: str, bold: bool = False):
    if not bold and (value is None or kind not in NUMBER_FORMATS or isinstance(value, str)):
        return neutralise(value)  # a plain cell: no style object needed
    cell = WriteOnlyCell(ws, value=neutralise(value) if isinstance(value, str) else value)
    if kind in NUMBER_FORMATS and not isinstance(value, str):
        cell.number_format = NUMBER_FORMATS[kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(report, path: str, *, keys_in_header: bool = False) -> int:
    """Write the report to ``path``; returns the number of data rows."""
    columns = report.visible_columns
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(report.title)[:31])
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A4"
    ws.append([_xlsx_cell(ws, report.title_line(), "text", bold=True)])
    ws.append(
        [_xlsx_cell(ws, _("Made %(when)s") % {"when": f"{timezone.localtime():%d.%m.%Y %H:%M}"}, "text")]
    )
    ws.append([_xlsx_cell(ws, c.key if keys_in_header else str(c.label), "text", bold=True) for c in columns])
    count = 0
    kinds = [c.kind for c in columns]
    keys = [c.key for c in columns]
    for row in report.iter_rows():
        ws.append([_xlsx_cell(ws, row.get(k), kind) for k, kind in zip(keys, kinds, strict=True)])
        count += 1
    with report_queries():
        totals = _totals_cells(report, columns)
    ws.append([_xlsx_cell(ws, v, kind, bold=True) for v, kind in zip(totals, kinds, strict=True)])
    last = get_column_letter(max(len(columns), 1))
    ws.auto_filter.ref = f"A3:{last}{3 + count}"
    wb.save(path)
    return count


def xlsx_response(report, *, keys_in_header: bool = False) -> FileResponse:
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="arenda-report-")
    os.close(handle)
    try:
        write_xlsx(report, path, keys_in_header=keys_in_header)
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    return FileResponse(
        stream,
        as_attachment=True,
        filename=_filename(report, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
