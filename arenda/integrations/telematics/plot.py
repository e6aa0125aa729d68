"""A trip's track as a small inline SVG (the printed appendix, ``bookings/telematics_paper.py``;
WeasyPrint draws inline SVG in a PDF, a browser on a page): no script, no fetch, nothing
but numbers from the track written into it.

The track is projected on the plane at its mean latitude (a degree of longitude is
cos(latitude) of a degree of latitude), scaled to fit the box keeping that aspect, north up.
The site, when known, is a circle of its radius to the same scale; a scale bar in km sits
at the foot. A track of fewer than two points is a small «no track» box.
"""

import math
from html import escape

from django.utils.formats import get_format
from django.utils.translation import gettext as _

from arenda.integrations.telematics.evidence import EARTH_RADIUS_M

METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
PADDING = 10  # px between the box's edge and the drawing
FOOT = 18  # px kept under the drawing for the scale bar
SMALLEST_SPAN_M = 100  # a unit that stood still is drawn at this scale, not infinitely close
PLACEHOLDER_HEIGHT = 40
TRACK_COLOUR, START_COLOUR, END_COLOUR, SITE_COLOUR = "#1f4e9c", "#1a7f37", "#c62828", "#b26a00"


def _point(value) -> tuple[float, float] | None:
    """(lat, lon) as floats, or None for anything that is not a real position."""
    try:
        lat, lon = (float(part) for part in value)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _n(value: float) -> str:
    """A coordinate in the SVG: one decimal, never «-0.0»."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _nice_length_m(most_m: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ metres not beyond ``most_m``."""
    power = 10 ** math.floor(math.log10(most_m))
    for step in (5, 2, 1):
        if step * power <= most_m:
            return step * power
    return power


def _km_text(metres: float) -> str:
    km = f"{metres / 1000:.3f}".rstrip("0").rstrip(".")
    return km.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def _placeholder(width: int) -> str:
    height = PLACEHOLDER_HEIGHT
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="track-plot track-empty" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fafafa" stroke="#999" '
        f'stroke-width="1" stroke-dasharray="3 2"/>'
        f'<text x="{width / 2:.1f}" y="{height / 2 + 4:.1f}" text-anchor="middle" font-size="11" '
        f'fill="#666">{escape(_("no track"))}</text></svg>'
    )


def track_svg(
    points,
    *,
    site: tuple[float, float] | None = None,
    radius_m: float | None = None,
    width: int = 320,
    height: int = 200,
) -> str:
    """The SVG markup of a track of [lat, lon] points (safe to mark safe: only numbers and
    this module's own words are written into it)."""
    width, height = int(width), int(height)
    track = [p for p in map(_point, points or ()) if p is not None]
    if len(track) < 2:
        return _placeholder(width)
    site = _point(site) if site is not None else None
    radius = float(radius_m) if site is not None and radius_m and float(radius_m) > 0 else 0.0

    # the plane at the mean latitude of everything drawn, in metres east and north
    lats = [lat for lat, _lon in track] + ([site[0]] if site else [])
    lons = [lon for _lat, lon in track] + ([site[1]] if site else [])
    lat0, lon0 = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    cosine = math.cos(math.radians(lat0))

    def metres(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * cosine * METRES_PER_DEGREE, (lat - lat0) * METRES_PER_DEGREE

    plane = [metres(lat, lon) for lat, lon in track]
    xs, ys = [x for x, _y in plane], [y for _x, y in plane]
    centre = metres(*site) if site else None
    if centre:
        xs += [centre[0] - radius, centre[0] + radius]
        ys += [centre[1] - radius, centre[1] + radius]
    span_x = max(max(xs) - min(xs), SMALLEST_SPAN_M)
    span_y = max(max(ys) - min(ys), SMALLEST_SPAN_M)
    box_w, box_h = width - 2 * PADDING, height - 2 * PADDING - FOOT
    scale = min(box_w / span_x, box_h / span_y)  # px per metre, the same both ways
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    top_mid = PADDING + box_h / 2

    def px(point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        return width / 2 + (x - mid_x) * scale, top_mid - (y - mid_y) * scale  # north up

    drawn = [px(point) for point in plane]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="track-plot" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fff" stroke="#999" '
        f'stroke-width="1"/>',
    ]
    if centre:
        cx, cy = px(centre)
        r = max(radius * scale, 2.0)  # to scale, but never too small to see
        parts.append(
            f'<circle class="site" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{SITE_COLOUR}" '
            f'fill-opacity="0.12" stroke="{SITE_COLOUR}" stroke-width="1" stroke-dasharray="4 2"/>'
        )
        parts.append(
            f'<path d="M{_n(cx - 3)} {_n(cy)}H{_n(cx + 3)}M{_n(cx)} {_n(cy - 3)}V{_n(cy + 3)}" '
            f'stroke="{SITE_COLOUR}" stroke-width="1"/>'
        )
    parts.append(
        f'<polyline class="track" points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in drawn)}" '
        f'fill="none" stroke="{TRACK_COLOUR}" stroke-width="1.5" stroke-linejoin="round" '
        f'stroke-linecap="round"/>'
    )
    (sx, sy), (ex, ey) = drawn[0], drawn[-1]
    parts.append(
        f'<circle class="start" cx="{_n(sx)}" cy="{_n(sy)}" r="4" fill="{START_COLOUR}" '
        f'stroke="#fff" stroke-width="1"/>'
    )
    parts.append(
        f'<rect class="end" x="{_n(ex - 3.5)}" y="{_n(ey - 3.5)}" width="7" height="7" '
        f'fill="{END_COLOUR}" stroke="#fff" stroke-width="1"/>'
    )

    # the scale bar: a round length of at most a third of the box
    bar_m = _nice_length_m(box_w / 3 / scale)
    bar_px = bar_m * scale
    x0, y0 = PADDING, height - PADDING - 4
    parts.append(
        f'<path class="scale" d="M{_n(x0)} {_n(y0 - 4)}V{_n(y0)}H{_n(x0 + bar_px)}V{_n(y0 - 4)}" '
        f'fill="none" stroke="#000" stroke-width="1"/>'
    )
    parts.append(
        f'<text x="{_n(x0 + bar_px + 4)}" y="{_n(y0)}" font-size="9" fill="#000">'
        f"{escape(_km_text(bar_m))} {escape(_('km'))}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
