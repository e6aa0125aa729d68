"""Exports of a report: CSV streamed row by row, XLSX streamed too (``xlsxstream`` writes the
sheet XML into a zip stream as the rows come, so the first bytes leave at once). Both read the rows through
``Report.iter_rows`` (a server-side iterator), so memory does not grow with the period.

Text that a spreadsheet would run as a formula (it begins with = + - @, a tab or a CR)
gets a leading apostrophe; numbers and dates stay numbers and dates."""

import csv
import io
from datetime import date
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from arenda.core import audit
from arenda.reports import xlsxstream
from arenda.reports.core import report_queries

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def _audit_pay(report, kind: str) -> None:
    """An export that carries drivers' pay is an audit event (who took the pay out, when)."""
    if report.show_pay and any(column.key in report.pay_keys for column in report.visible_columns):
        audit.record(
            audit.Kind.REPORT_EXPORTED,
            by=report.user,
            target=type(report).__name__,
            summary=f"{kind} {report.period_query()}".strip(),
            format=kind,
            query={key: str(value) for key, value in report.data.items() if value not in (None, "")},
        )


def csv_response(report, *, keys_in_header: bool = False) -> StreamingHttpResponse:
    """UTF-8 with a BOM (Excel reads it as UTF-8); ``sep=semicolon`` writes ; and decimal
    commas, as Excel in a Russian locale expects."""
    _audit_pay(report, "csv")
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
class _LazyTotals:
    """The totals row, computed when the writer reaches it (after the rows), so the first
    bytes of the file leave before the totals' aggregate has run."""

    def __init__(self, report, columns):
        self.report, self.columns, self._cells = report, columns, None

    def _get(self) -> list:
        if self._cells is None:
            with report_queries():
                self._cells = _totals_cells(self.report, self.columns)
        return self._cells

    def __len__(self):
        return len(self._get())

    def __iter__(self):
        return iter(self._get())

    def __getitem__(self, index):
        return self._get()[index]


def xlsx_chunks(report, *, keys_in_header: bool = False):
    """The report as an .xlsx file, chunk by chunk (the sheet XML written as the rows come)."""
    columns = report.visible_columns
    language = translation.get_language()
    with translation.override(language):
        title_lines = [
            report.title_line(),
            _("Made %(when)s") % {"when": f"{timezone.localtime():%d.%m.%Y %H:%M}"},
        ]
        sheet_columns = [
            xlsxstream.Column(c.key if keys_in_header else str(c.label), c.kind, c.width) for c in columns
        ]
        sheet_title = str(report.title)
    keys = [c.key for c in columns]

    def rows():
        with translation.override(language):
            for row in report.iter_rows():
                yield [row.get(k) for k in keys]

    def generate():
        with translation.override(language):
            yield from xlsxstream.stream_xlsx(
                sheet_title=sheet_title,
                title_lines=title_lines,
                columns=sheet_columns,
                rows=rows(),
                totals=_LazyTotals(report, columns),
            )

    return generate()


def xlsx_response(report, *, keys_in_header: bool = False) -> StreamingHttpResponse:
    _audit_pay(report, "xlsx")
    response = StreamingHttpResponse(
        xlsx_chunks(report, keys_in_header=keys_in_header),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response
