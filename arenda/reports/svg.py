"""Charts as server-rendered SVG (no scripts, no libraries): horizontal bars for a ranking,
columns for a time series. Every text is escaped."""

from django.utils.html import escape
from django.utils.safestring import mark_safe

COLORS = ("#1f5fa8", "#23794a", "#9a6200", "#b3261e", "#6b4fa8")


def _num(value) -> float:
    return float(value or 0)


def bars(items: list[tuple[str, object, str]], *, title: str, color: str = COLORS[0], width: int = 640):
    """Horizontal bars: ``items`` = (label, value, value shown)."""
    if not items:
        return ""
    row_h, label_w, value_w, top = 24, 200, 120, 28
    bar_w = width - label_w - value_w - 16
    peak = max((_num(v) for _, v, _ in items), default=0) or 1
    height = top + row_h * len(items) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value, shown) in enumerate(items):
        y = top + i * row_h
        w = max(_num(value) / peak * bar_w, 0)
        text = str(label)
        if len(text) > 28:
            text = text[:27] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="chart-label">{escape(text)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="2" fill="{color}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="chart-value">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def columns(items: list[tuple[str, object, str]], *, title: str, color: str = COLORS[0], width: int = 640):
    """Vertical columns over time: ``items`` = (label under the column, value, value shown)."""
    if not items:
        return ""
    height, top, bottom, left = 220, 28, 36, 8
    plot_h = height - top - bottom
    peak = max((_num(v) for _, v, _ in items), default=0) or 1
    step = (width - left * 2) / len(items)
    col_w = max(min(step * 0.7, 48), 2)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" class="chart-axis"/>',
    ]
    every = max(1, len(items) // 12)
    for i, (label, value, shown) in enumerate(items):
        h = max(_num(value) / peak * plot_h, 0)
        x = left + i * step + (step - col_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" rx="2" fill="{color}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
        )
        if len(items) <= 16:
            parts.append(
                f'<text x="{x + col_w / 2:.1f}" y="{max(y - 4, top - 2):.1f}" text-anchor="middle" '
                f'class="chart-value">{escape(shown)}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked(parts_: list[tuple[str, object, str]], *, title: str, width: int = 640):
    """One bar split into parts (e.g. own vs supplier), with a legend."""
    total = sum(_num(v) for _, v, _ in parts_)
    if not total:
        return ""
    height = 70
    out = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    x = 0.0
    for i, (label, value, shown) in enumerate(parts_):
        w = _num(value) / total * width
        color = COLORS[i % len(COLORS)]
        out.append(
            f'<rect x="{x:.1f}" y="24" width="{w:.1f}" height="18" fill="{color}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
        )
        lx = i * (width / max(len(parts_), 1))
        out.append(
            f'<rect x="{lx:.1f}" y="52" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14:.1f}" y="61" class="chart-label">{escape(label)}: {escape(shown)}</text>'
        )
        x += w
    out.append("</svg>")
    return mark_safe("".join(out))
