"""The reconciliation statement (``arenda/billing/reconciliation.py``) as an XLSX sheet, written
by the reports' own XLSX writer (``xlsxstream``): the two-sided table of the printed form, our
half filled, the counterparty's blank, amounts as numbers in the money format."""

from django.conf import settings
from django.utils import translation

from arenda.billing.reconciliation import Statement
from arenda.reports import xlsxstream

COLUMNS = [
    xlsxstream.Column("Дата", "date", 11),
    xlsxstream.Column("Документ", "text", 44),
    xlsxstream.Column("Дебет", "money", 15),
    xlsxstream.Column("Кредит", "money", 15),
    xlsxstream.Column("Дата", "date", 11),
    xlsxstream.Column("Документ", "text", 30),
    xlsxstream.Column("Дебет", "money", 15),
    xlsxstream.Column("Кредит", "money", 15),
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _or_none(value):
    return value or None


def statement_rows(s: Statement) -> list[list]:
    """The table's rows: the opening balance, the documents, the turnovers, the closing balance
    (both halves named, only ours with figures), then the closing text."""

    def total(label, debit, credit):
        return [None, label, debit, credit, None, label, None, None]

    rows = [total("Сальдо начальное", s.opening_debit, s.opening_credit)]
    rows += [[r.date, str(r.document), _or_none(r.debit), _or_none(r.credit)] for r in s.rows]
    rows.append(total("Обороты за период", s.turnover_debit, s.turnover_credit))
    rows.append(total("Сальдо конечное", s.closing_debit, s.closing_credit))
    rows.append([])
    rows.append([None, s.closing_text()])
    return rows


def render_statement_xlsx(s: Statement) -> bytes:
    ours, theirs = s.organization, s.counterparty
    with translation.override(settings.LANGUAGE_CODE):
        title_lines = [
            f"Акт сверки взаимных расчётов за период: {s.start:%d.%m.%Y} — {s.end:%d.%m.%Y}",
            f"между {ours.full_name or ours.name} и {theirs.full_name or theirs.name} по всем договорам",
            f"Столбцы A–D: по данным {ours.name}, руб.; столбцы E–H: по данным {theirs.name}, руб.",
        ]
        return b"".join(
            xlsxstream.stream_xlsx(
                sheet_title="Акт сверки",
                title_lines=title_lines,
                columns=COLUMNS,
                rows=statement_rows(s),
            )
        )
