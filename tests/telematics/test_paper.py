"""The telematics appendix on paper: the track plot (scaled into its box keeping the aspect,
the site to scale, a placeholder without a track, nothing but numbers written into it), and
the appendix of the overtime invoice and of the shift report — its figures, «no data» for a
missing one, shown only when the company prints it and a trip's evidence was received."""

import hashlib
import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone, translation
from pypdf import PdfReader

from arenda.billing.printing import render_invoice_html, render_invoice_pdf
from arenda.billing.services import prepayment_invoice_for_booking
from arenda.bookings import shift_report_print
from arenda.bookings.models import ShiftReport, TripEvidence
from arenda.core.models import CompanySettings
from arenda.flows.trips import waybill_record
from arenda.integrations.telematics.evidence import distance_m
from arenda.integrations.telematics.plot import FOOT, PADDING, track_svg
from tests.bookings.test_waybills import job, png_bytes, sheet
from tests.factories import WaybillFactory

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
SITE = (D("55.812300"), D("37.498700"))
KEYS = itertools.count(1)


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def polyline(svg: str) -> list[tuple[float, float]]:
    line = parsed(svg).find(f"{SVG}polyline")
    return [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]


def ru(message: str) -> str:
    with translation.override("ru"):
        return translation.gettext(message)


# --- the plot --------------------------------------------------------------------------------------
def test_the_track_is_scaled_to_fit_inside_the_box():
    track = [[55.70 + i * 0.01, 37.50 + (i % 3) * 0.02] for i in range(20)]
    svg = track_svg(track, width=320, height=200)
    root = parsed(svg)
    assert root.get("width") == "320" and root.get("height") == "200" and root.get("viewBox") == "0 0 320 200"
    points = polyline(svg)
    assert len(points) == 20
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert min(xs) >= PADDING - 0.1 and max(xs) <= 320 - PADDING + 0.1
    assert min(ys) >= PADDING - 0.1 and max(ys) <= 200 - PADDING - FOOT + 0.1
    # fitted: the longer side (north–south here) fills the drawing's height
    assert max(ys) - min(ys) == pytest.approx(200 - 2 * PADDING - FOOT, abs=0.2)
    assert ys[0] > ys[-1]  # north up: the track goes north, so up the page
    start, end = root.find(f"{SVG}circle[@class='start']"), root.find(f"{SVG}rect[@class='end']")
    assert (float(start.get("cx")), float(start.get("cy"))) == pytest.approx(points[0], abs=0.1)
    assert float(end.get("x")) + 3.5 == pytest.approx(points[-1][0], abs=0.1)


def test_the_aspect_is_kept_by_the_latitude_cosine():
    # a square kilometre at 60° north: its longitude span is twice its latitude span in degrees
    lat, lon = 60.0, 30.0
    d_lat = 1000 / (math.pi * 6_371_000 / 180)
    d_lon = d_lat / math.cos(math.radians(lat))
    square = [[lat, lon], [lat, lon + d_lon], [lat + d_lat, lon + d_lon], [lat + d_lat, lon], [lat, lon]]
    points = polyline(track_svg(square, width=320, height=200))
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert max(xs) - min(xs) == pytest.approx(max(ys) - min(ys), rel=0.02)


def test_the_site_is_a_circle_of_its_radius_to_scale():
    # 1 km east–west through the site's latitude, the site halfway, 250 m around it
    lat, lon = 55.8123, 37.4987
    d_lon = 1000 / (math.pi * 6_371_000 / 180) / math.cos(math.radians(lat))
    track = [[lat, lon - d_lon / 2], [lat, lon + d_lon / 2]]
    assert distance_m(tuple(track[0]), tuple(track[1])) == pytest.approx(1000, rel=0.01)
    svg = track_svg(track, site=(D(str(lat)), D(str(lon))), radius_m=250)
    circle = parsed(svg).find(f"{SVG}circle[@class='site']")
    assert circle is not None
    (x1, y1), (x2, _y2) = polyline(svg)
    assert float(circle.get("cx")) == pytest.approx((x1 + x2) / 2, abs=0.2)
    assert float(circle.get("cy")) == pytest.approx(y1, abs=0.2)
    assert 2 * float(circle.get("r")) / (x2 - x1) == pytest.approx(0.5, rel=0.02)
    assert "km</text>" in svg  # the scale bar


def test_the_site_far_off_the_track_is_still_drawn_and_the_track_stays_in_the_box():
    track = [[55.70, 37.50], [55.71, 37.52]]
    svg = track_svg(track, site=(56.0, 38.0), radius_m=300, width=240, height=160)
    root = parsed(svg)
    circle = root.find(f"{SVG}circle[@class='site']")
    assert 0 <= float(circle.get("cx")) <= 240 and 0 <= float(circle.get("cy")) <= 160
    assert float(circle.get("r")) >= 2  # never too small to see
    assert all(0 <= x <= 240 and 0 <= y <= 160 for x, y in polyline(svg))


def test_a_unit_that_stood_still_is_drawn_not_divided_by_zero():
    svg = track_svg([[55.75, 37.61]] * 5)
    points = polyline(svg)
    assert len(points) == 5 and len(set(points)) == 1


@pytest.mark.parametrize(
    "track", [[], None, [[55.75, 37.61]], [["x", "y"], [None, 37.6]], [[91, 37], [55, 181]]]
)
def test_without_a_track_a_small_placeholder(track):
    svg = track_svg(track, width=320, height=200)
    root = parsed(svg)
    assert root.find(f"{SVG}polyline") is None
    assert "no track" in svg and root.get("width") == "320" and int(root.get("height")) < 200


def test_only_numbers_are_written_into_the_svg():
    track = [["<script>", "1"], [55.7, 37.5], ["55.71", "37.52"], [float("nan"), 37.5]]
    svg = track_svg(track, site=("55.7", "37.5"), radius_m=100)
    assert "<script" not in svg and "nan" not in svg.lower()
    assert len(polyline(svg)) == 2  # strings of numbers are numbers; the rest is skipped
    assert re.fullmatch(r"[\d.,\s-]+", parsed(svg).find(f"{SVG}polyline").get("points"))


# --- the papers ---------------------------------------------------------------------------------------
def tracked_booking(**kw):
    booking = job(**kw)
    booking.site_lat, booking.site_lon = SITE
    booking.save()
    return booking


def a_days_track() -> list[list[float]]:
    """From the yard 4 km south-west to the site, about the site all day, part of the way back."""
    lat, lon = (float(x) for x in SITE)
    there = [[lat - 0.03 + i * 0.003, lon - 0.04 + i * 0.004 + (i % 3) * 0.0015] for i in range(10)]
    about = [[lat + 0.0015 * math.sin(i), lon + 0.002 * math.cos(i * 1.3)] for i in range(12)]
    back = [[lat - i * 0.002, lon - i * 0.0035] for i in range(1, 6)]
    return [[round(a, 6), round(b, 6)] for a, b in there + about + back]


def evidence_for(waybill, *, status=TripEvidence.Status.READY, **figures):
    start = waybill.started_at - timedelta(hours=2)
    lat, lon = (float(x) for x in SITE)
    data = {
        "status": status,
        "samples": 412,
        "engine_hours": D("11.20"),
        "distance_km": D("48.3"),
        "first_movement": waybill.started_at + timedelta(minutes=2),
        "last_movement": waybill.finished_at + timedelta(minutes=14),
        "ignition_hours": None,  # the tracker gave no ignition
        "hours_on_site": D("10.25"),
        "track": a_days_track(),
    }
    data.update(figures)
    return TripEvidence.objects.create(
        waybill=waybill,
        booking=waybill.booking,
        unit=waybill.booking.unit,
        provider="wialon",
        tracker_id="734455",
        window_start=start,
        window_end=waybill.finished_at + timedelta(hours=2),
        fetched_at=timezone.now() if status == TripEvidence.Status.READY else None,
        **data,
    )


def overtime_trip(**evidence):
    booking = tracked_booking(min_hours="4")
    recorded = waybill_record(booking=booking, data=sheet(booking, hours="9"), by=booking.deal.manager)
    invoice = recorded.overtime_invoice
    assert invoice is not None and invoice.is_overtime
    return invoice, recorded.waybill, evidence_for(recorded.waybill, **evidence)


def appendix_of(html: str) -> str:
    found = re.search(r'<section class="tm-appendix">.*?</section>', html, re.S)
    return found.group(0) if found else ""


def pdf_pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF")
    return [re.sub(r"[\s\u00a0\u202f]+", " ", page.extract_text()) for page in PdfReader(BytesIO(data)).pages]


@pytest.mark.django_db
def test_the_overtime_invoice_carries_the_trackers_figures_and_the_track():
    invoice, waybill, _evidence = overtime_trip()
    html = render_invoice_html(invoice)
    appendix = appendix_of(html)
    assert appendix
    assert ru("Appendix: telematics data") in appendix and "Wialon" in appendix
    day = timezone.localtime(waybill.started_at)
    assert f"№ {waybill.number}<br>{day:%d.%m.%Y}" in appendix
    cells = re.findall(r"<td[^>]*>(.*?)</td>", appendix, re.S)
    # the waybill's hours beside the engine hours, then start, stop, km, ignition, site, messages
    assert cells[1:9] == [
        "9",
        "11,2",
        "08:02",
        "17:14",
        "48,3",
        f'<span class="tm-missing">{ru("no data")}</span>',
        "10,25",
        "412",
    ]
    assert f"{day - timedelta(hours=2):%d.%m.%Y %H:%M}" in cells[9]
    svg = re.search(r"<svg.*?</svg>", appendix, re.S).group(0)
    root = parsed(svg)
    assert root.find(f"{SVG}polyline") is not None and root.find(f"{SVG}circle[@class='site']") is not None

    pages = pdf_pages(render_invoice_pdf(invoice))
    assert len(pages) == 2  # the invoice as accountants know it, the appendix on its own page
    assert "Счёт на оплату" in pages[0] and "Wialon" not in pages[0]
    assert "Wialon" in pages[1] and waybill.number in pages[1] and "11,2" in pages[1]


@pytest.mark.django_db
def test_every_received_trip_of_the_booking_is_a_row_and_a_pending_one_is_not():
    booking = tracked_booking(min_hours="4", days=2)
    first = waybill_record(booking=booking, data=sheet(booking, "ПЛ-1", hours="9"), by=booking.deal.manager)
    second = waybill_record(
        booking=booking, data=sheet(booking, "ПЛ-2", day=1, hours="10", span=10), by=booking.deal.manager
    )
    evidence_for(first.waybill)
    evidence_for(second.waybill, engine_hours=None, track=[])
    invoice = second.overtime_invoice or first.overtime_invoice
    appendix = appendix_of(render_invoice_html(invoice))
    assert appendix.count('<td class="tm-waybill">') == 2
    assert appendix.index("ПЛ-1") < appendix.index("ПЛ-2")  # in the order of the trips
    assert "no track" in appendix  # the second trip's track is empty: a placeholder
    TripEvidence.objects.filter(waybill=second.waybill).update(status=TripEvidence.Status.PENDING)
    appendix = appendix_of(render_invoice_html(invoice))
    assert appendix.count('<td class="tm-waybill">') == 1 and "ПЛ-2" not in appendix


@pytest.mark.django_db
def test_no_appendix_when_the_company_does_not_print_it():
    invoice, _waybill, _evidence = overtime_trip()
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(telematics_on_paper=False)
    html = render_invoice_html(invoice)
    assert "tm-appendix" not in html and "<svg" not in html
    assert len(pdf_pages(render_invoice_pdf(invoice))) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [TripEvidence.Status.PENDING, TripEvidence.Status.FAILED])
def test_no_appendix_without_a_received_evidence(status):
    invoice, _waybill, _evidence = overtime_trip(status=status)
    assert "tm-appendix" not in render_invoice_html(invoice)


@pytest.mark.django_db
def test_only_the_overtime_invoice_carries_it():
    booking = tracked_booking(min_hours="4")
    prepayment = prepayment_invoice_for_booking(booking=booking, by=booking.deal.manager)
    recorded = waybill_record(
        booking=booking, data=sheet(booking, hours="10", span=10), by=booking.deal.manager
    )
    evidence_for(recorded.waybill)
    assert recorded.overtime_invoice.is_overtime and not prepayment.is_overtime
    assert "tm-appendix" in render_invoice_html(recorded.overtime_invoice)
    assert "tm-appendix" not in render_invoice_html(prepayment)


# --- the shift report --------------------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def shift_report(booking, *, waybill=None, day=None):
    png = png_bytes()
    report = ShiftReport(
        booking=booking,
        waybill=waybill,
        snapshot={"booking": str(booking.pk), "date": (day or timezone.localdate(booking.start)).isoformat()},
        signer_name="Петров Пётр",
        signer_position="прораб",
        signature_sha256=hashlib.sha256(png).hexdigest(),
        signed_at=timezone.now().replace(microsecond=0),
        content_sha256="0" * 64,
        idempotency_key=f"key-{next(KEYS)}",
    )
    report.signature.save("signature.png", ContentFile(png), save=False)
    report.save()
    return report


def two_days():
    """A booking of two days, a waybill each day, the tracker received for both."""
    booking = tracked_booking(days=2)
    start = timezone.localtime(booking.start).replace(hour=8)
    first = WaybillFactory(
        booking=booking, number="ПЛ-11", started_at=start, finished_at=start + timedelta(hours=9)
    )
    nxt = start + timedelta(days=1)
    second = WaybillFactory(
        booking=booking, number="ПЛ-12", started_at=nxt, finished_at=nxt + timedelta(hours=9)
    )
    evidence_for(first)
    evidence_for(second, distance_km=None)
    return booking, first, second


@pytest.mark.django_db
def test_the_shift_report_carries_its_waybills_evidence(media):
    booking, _first, second = two_days()
    report = shift_report(booking, waybill=second)
    appendix = appendix_of(shift_report_print.render_html(report))
    assert "ПЛ-12" in appendix and "ПЛ-11" not in appendix
    assert ru("The appendix is not part of the signed content.") in appendix
    assert f'<span class="tm-missing">{ru("no data")}</span>' in appendix  # its distance
    assert "<polyline" in appendix and 'class="site"' in appendix
    pages = pdf_pages(shift_report_print.render_pdf(report))
    assert len(pages) == 2 and "ПЛ-12" in pages[1] and "Wialon" in pages[1]


@pytest.mark.django_db
def test_the_shift_report_without_a_waybill_takes_the_trips_of_its_day(media):
    booking, first, second = two_days()
    report = shift_report(booking, day=timezone.localdate(second.started_at))
    appendix = appendix_of(shift_report_print.render_html(report))
    assert "ПЛ-12" in appendix and "ПЛ-11" not in appendix
    report = shift_report(booking, day=timezone.localdate(first.started_at) - timedelta(days=3))
    assert "tm-appendix" not in shift_report_print.render_html(report)  # no trip that day


@pytest.mark.django_db
def test_the_shift_report_without_a_received_evidence_or_with_the_setting_off_has_none(media):
    booking, first, second = two_days()
    TripEvidence.objects.filter(waybill=second).update(status=TripEvidence.Status.FAILED)
    report = shift_report(booking, waybill=second)
    assert "tm-appendix" not in shift_report_print.render_html(report)
    report_first = ShiftReport.objects.get(pk=shift_report(booking, waybill=first).pk)
    assert "tm-appendix" in shift_report_print.render_html(report_first)
    CompanySettings.objects.filter(pk=CompanySettings.current().pk).update(telematics_on_paper=False)
    html = shift_report_print.render_html(report_first)
    assert "tm-appendix" not in html and "Wialon" not in html
    assert len(pdf_pages(shift_report_print.render_pdf(report_first))) == 1
