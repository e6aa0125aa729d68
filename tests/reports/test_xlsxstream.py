"""The streaming XLSX writer: the file it makes reads back (openpyxl) with the right types,
styles and layout, it is neutralised against formula injection, and it streams in bounded
memory."""

import io
import shutil
import subprocess
import tracemalloc
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arenda.reports import xlsxstream
from arenda.reports.xlsxstream import Column, column_letter, sheet_name, stream_xlsx

COLUMNS = [
    Column("Date", "date", 12),
    Column("Started", "datetime", 17),
    Column("Driver", "text", 30),
    Column("Hours", "hours"),
    Column("Km", "km"),
    Column("Amount", "money", 16),
    Column("Trips", "int"),
    Column("Share", "percent"),
    Column("Other", "number"),
]
ROWS = [
    (
        date(2026, 10, 1),
        datetime(2026, 10, 1, 8, 30),
        "Иванов Иван",
        Decimal("8.50"),
        Decimal("123.4"),
        Decimal("1234.56"),
        3,
        0.125,
        1.5,
    ),
    (date(2026, 10, 2), None, "Petrov", 7, 12.5, Decimal("10"), 1, Decimal("0.5"), True),
]


def build(
    rows=ROWS, *, columns=COLUMNS, title_lines=("Trips", "October 2026"), totals=None, **kwargs
) -> bytes:
    return b"".join(
        stream_xlsx(
            sheet_title=kwargs.pop("sheet_title", "Trips"),
            title_lines=list(title_lines),
            columns=columns,
            rows=rows,
            totals=totals,
            **kwargs,
        )
    )


def load(data: bytes):
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_layout_types_and_formats():
    totals = ["Total", None, None, Decimal("15.50"), None, Decimal("1244.56"), 4, None, None]
    ws = load(build(totals=totals))

    assert ws.title == "Trips"
    assert ws["A1"].value == "Trips" and ws["A1"].font.b
    assert ws["A2"].value == "October 2026" and ws["A2"].font.b
    assert [c.value for c in ws[3]] == [c.label for c in COLUMNS]
    assert all(c.font.b for c in ws[3])
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["A"].width == 12
    assert ws.column_dimensions["C"].width == 30
    assert ws.column_dimensions["D"].width == 14
    assert ws.auto_filter.ref == "A3:I5"

    a, b, c, d, e, f, g, h, i = ws[4]
    assert a.value == datetime(2026, 10, 1) and a.number_format == "DD.MM.YYYY"
    assert a.is_date
    assert b.value == datetime(2026, 10, 1, 8, 30) and b.number_format == "DD.MM.YYYY HH:MM"
    assert c.value == "Иванов Иван" and c.data_type == "s"
    assert d.value == 8.5 and d.number_format == "0.00"
    assert e.value == 123.4 and e.number_format == "0.0"
    assert f.value == 1234.56 and f.number_format == "#,##0.00"
    assert g.value == 3 and isinstance(g.value, int) and g.number_format == "0"
    assert h.value == 0.125 and h.number_format == "0.0%"
    assert i.value == 1.5 and i.number_format == "General"
    assert not any(cell.font.b for cell in ws[4])

    second = ws[5]
    assert second[1].value is None  # None → no cell
    assert second[3].value == 7 and second[4].value == 12.5
    assert second[8].value is True

    total = ws[6]
    assert total[0].value == "Total" and total[0].font.b
    assert total[3].value == 15.5 and total[3].font.b and total[3].number_format == "0.00"
    assert total[5].value == 1244.56 and total[5].font.b and total[5].number_format == "#,##0.00"
    assert total[6].value == 4 and total[6].number_format == "0"
    assert ws.max_row == 6


def test_workbook_defines_the_hidden_filter_database_and_decimals_are_exact():
    data = build()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    for part in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/styles.xml"):
        assert part in names
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    (name,) = workbook.findall("m:definedNames/m:definedName", ns)
    assert name.attrib == {"name": "_xlnm._FilterDatabase", "localSheetId": "0", "hidden": "1"}
    assert name.text == "'Trips'!$A$3:$I$5"
    assert "<v>1234.56</v>" in sheet and "<v>8.50</v>" in sheet  # str(Decimal), no float noise
    assert sheet.index("</sheetData>") < sheet.index("<autoFilter")


def test_text_is_escaped_neutralised_and_cleaned():
    rows = [
        ['=HYPERLINK("http://x","y")', "Tom & Jerry <b>\"q\" 'a'"],
        ["+79001234567", "bell\x07 null\x00 esc\x1b tab\tnew\nline"],
        ["-5", "@SUM(A1)"],
        ["\tx", "ok"],
    ]
    columns = [Column("A", "text"), Column("B", "money")]  # a str in a number column stays text
    ws = load(build(rows, columns=columns, title_lines=["=cmd|' /C calc'!A0"]))

    assert ws["A1"].value == "'=cmd|' /C calc'!A0"
    assert ws["A3"].value == '\'=HYPERLINK("http://x","y")' and ws["A3"].data_type == "s"
    assert ws["B3"].value == "Tom & Jerry <b>\"q\" 'a'" and ws["B3"].data_type == "s"
    assert ws["A4"].value == "'+79001234567"
    assert ws["B4"].value == "bell null esc tab\tnew\nline"
    assert ws["A5"].value == "'-5" and ws["B5"].value == "'@SUM(A1)"
    assert ws["A6"].value == "'\tx"


def test_one_column_and_thirty_columns():
    ws = load(build([[1], [2]], columns=[Column("N", "int")], title_lines=[]))
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:A3"
    assert [r[0].value for r in ws.iter_rows()] == ["N", 1, 2]

    columns = [Column(f"c{i}", "int", width=10 + i) for i in range(30)]
    ws = load(build([list(range(30))], columns=columns, title_lines=["Wide"]))
    assert ws.auto_filter.ref == "A2:AD3"
    assert ws["AA3"].value == 26 and ws["AD3"].value == 29 and ws["AD2"].value == "c29"
    assert ws.column_dimensions["AD"].width == 39
    assert [column_letter(i) for i in (1, 26, 27, 30, 52, 53, 702, 703, 16384)] == [
        "A",
        "Z",
        "AA",
        "AD",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]


def test_empty_rows_give_a_header_only_file():
    ws = load(build(iter(())))
    assert ws.max_row == 3
    assert ws.auto_filter.ref == "A3:I3"
    assert ws.freeze_panes == "A4"


def test_sheet_title_is_cleaned():
    assert sheet_name("Trips [2026]: a/b\\c*d?e") == "Trips 2026 abcde"
    assert sheet_name("x" * 40) == "x" * 31
    assert sheet_name("'quoted'") == "quoted"
    assert sheet_name("[]") == "Sheet1"
    ws = load(build(sheet_title="Рейсы & <прочее> за 2026 год и ещё немного"))
    assert ws.title == "Рейсы & <прочее> за 2026 год и"  # 31 characters, trailing space stripped


def test_dates_and_aware_datetimes(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    aware = datetime(2026, 10, 1, 5, 0, tzinfo=ZoneInfo("UTC"))
    rows = [[aware, aware, date(1900, 3, 1), date(1900, 1, 1)]]
    columns = [Column("dt", "datetime"), Column("d", "date"), Column("a", "date"), Column("b", "date")]
    ws = load(build(rows, columns=columns, title_lines=[]))
    assert ws["A2"].value == datetime(2026, 10, 1, 8, 0)  # Moscow local time
    assert ws["B2"].value == datetime(2026, 10, 1, 8, 0) and ws["B2"].number_format == "DD.MM.YYYY"
    assert ws["C2"].value == datetime(1900, 3, 1)
    assert ws["D2"].value == datetime(1900, 1, 1)
    with zipfile.ZipFile(io.BytesIO(build(rows, columns=columns, title_lines=[]))) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="C2" s="2"><v>61</v>' in sheet  # 1900-03-01 is serial 61 (after the fake 1900-02-29)
    assert '<c r="D2" s="2"><v>1</v>' in sheet  # 1900-01-01 is serial 1


def test_no_zip64_headers_excel_rejects_them():
    """Excel reports a file as corrupt when a small member has Zip64 local headers (see the
    module docstring), so no member may have the 0xFFFFFFFF sizes of a Zip64 header."""
    data = build()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            header = data[info.header_offset : info.header_offset + 30]
            assert header[:4] == b"PK\x03\x04"
            assert header[18:26] != b"\xff" * 8, info.filename
            assert info.extract_version < 45, info.filename


def test_odd_values():
    rows = [[float("nan"), Decimal("1E+3"), Decimal("NaN"), Decimal("-0.000001"), ("x", 1)]]
    columns = [
        Column("a", "number"),
        Column("b", "int"),
        Column("c", "money"),
        Column("d", "number"),
        Column("e", "text"),
    ]
    ws = load(build(rows, columns=columns, title_lines=[]))
    assert [c.value for c in ws[2]] == [None, 1000, None, -0.000001, "('x', 1)"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="kind"):
        Column("x", "currency")
    with pytest.raises(ValueError, match="column"):
        build(columns=[])
    with pytest.raises(ValueError, match="3 values for 2 columns"):
        build([[1, 2, 3]], columns=[Column("a", "int"), Column("b", "int")])


def test_first_chunk_comes_before_the_rows_are_exhausted():
    pulled = 0
    total = 20_000

    def rows():
        nonlocal pulled
        for i in range(total):
            pulled += 1
            yield (date(2026, 1, 1), f"driver {i}", i * 1.5)

    columns = [Column("d", "date"), Column("t", "text"), Column("n", "km")]
    chunks = stream_xlsx(sheet_title="x", title_lines=[], columns=columns, rows=rows(), chunk_size=4096)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")
    assert pulled < total
    data = first + b"".join(chunks)
    assert pulled == total
    assert load(data).max_row == total + 1


def test_100k_rows_stream_in_bounded_memory():
    n = 100_000

    def rows():
        for i in range(n):
            yield (
                date(2026, 1, 1 + i % 28),
                datetime(2026, 1, 1 + i % 28, i % 24, i % 60),
                f"Водитель {i}",
                Decimal(i) / 100,
                i,
            )

    columns = [
        Column("d", "date"),
        Column("dt", "datetime"),
        Column("t", "text"),
        Column("m", "money"),
        Column("i", "int"),
    ]
    out = io.BytesIO()
    largest = 0
    tracemalloc.start()
    try:
        for chunk in stream_xlsx(
            sheet_title="big", title_lines=["t"], columns=columns, rows=rows(), totals=["Total"]
        ):
            largest = max(largest, len(chunk))
            out.write(chunk)
            if largest and out.tell() > 1 << 20:
                out.seek(0)
                out.truncate()  # like a socket: written bytes are gone
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    assert largest < 1024 * 1024


def test_100k_rows_file_reads_back():
    n = 100_000
    rows = ((i, f"r{i}") for i in range(n))
    data = build(rows, columns=[Column("i", "int"), Column("t", "text")], title_lines=[])
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    values = list(wb.active.iter_rows(min_row=n, values_only=True))
    assert values == [(n - 2, f"r{n - 2}"), (n - 1, f"r{n - 1}")]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed"
)
def test_libreoffice_converts_it(tmp_path):
    src = tmp_path / "t.xlsx"
    src.write_bytes(build())
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run(
        [binary, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(src)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    text = (tmp_path / "t.csv").read_text(encoding="utf-8", errors="replace")
    assert "Иванов Иван" in text and "01.10.2026" in text


# --- the data rows' fast path writes what the general one writes --------------------------------
_CELLS = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
    st.booleans(),
    st.text(max_size=20),
    st.dates(min_value=date(1800, 1, 1)),
    st.datetimes(min_value=datetime(1899, 1, 1), timezones=st.just(UTC)),
)
_KINDS = list(xlsxstream.KINDS)


@given(st.lists(st.tuples(_CELLS, st.sampled_from(_KINDS)), min_size=1, max_size=8), st.integers(5, 10**6))
def test_a_data_row_is_written_as_the_general_writer_writes_it(cells, r):
    values = [value for value, _kind in cells]
    kinds = [kind for _value, kind in cells]
    letters = [xlsxstream.column_letter(i) for i in range(1, len(cells) + 1)]
    styles = [xlsxstream._STYLE[k] for k in kinds]
    heads = [f'<c r="{letter}' for letter in letters]
    mids = [f'" s="{style}"><v>' if style else '"><v>' for style in styles]
    to_local = xlsxstream._local_time_converter()
    fast = xlsxstream._data_row_xml(r, values, heads, mids, letters, styles, kinds, to_local)
    assert fast == xlsxstream._row_xml(r, values, letters, styles, kinds, bold=False, to_local=to_local)
