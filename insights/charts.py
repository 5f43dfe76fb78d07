"""Charts drawn on the server as inline SVG: no script, no CDN, readable without JavaScript.

Every bar carries `data-label` and `data-value` (and a <title> tooltip), so a browser test can read
the numbers a chart shows and compare them with the database.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9"]


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _short(label: str, room: float) -> str:
    """A tick label that fits `room` pixels: the time of day or day of month of a timestamp, else cut."""
    if label[:1].isdigit() and len(label) > 10:
        return label[-5:]
    fits = max(int((room - 6) // 6), 3)
    return label if len(label) <= fits else label[: fits - 1] + "…"


def bars(items: list[tuple[str, float]], *, chart_id: str, title: str, height: int = 180, color: str = PALETTE[0]):
    """A vertical bar chart of (label, value) pairs."""
    return grouped_bars([(label, [value]) for label, value in items], series=[title], chart_id=chart_id, title=title,
                        height=height, colors=[color])


def grouped_bars(groups: list[tuple[str, list]], *, series: list[str], chart_id: str, title: str, height: int = 200,
                 colors: list[str] | None = None):
    """Bars side by side per group: [(label, [value per series]), ...]."""
    colors = colors or PALETTE
    n_series = max(len(series), 1)
    values = [v or 0 for _, vals in groups for v in vals]
    top = max(values + [1])
    if n_series == 1:
        slot = 76 if len(groups) <= 8 else 48 if len(groups) <= 16 else 28
    else:
        slot = max(14 * n_series + 10, 76 if len(groups) <= 6 else 0)
    left, bottom, plot_h = 36, 34, height - 50
    width = max(left + slot * len(groups) + 10, 240)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" data-chart="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#9ca3af"/>',
        f'<text x="{left - 4}" y="{height - bottom - plot_h + 4}" text-anchor="end" font-size="10" fill="#6b7280">'
        f'{_fmt(top)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="10" fill="#6b7280">0</text>',
    ]
    bar_w = (slot - 8) / n_series
    label_every = max(1, len(groups) // 16)
    for i, (label, vals) in enumerate(groups):
        x0 = left + i * slot + 4
        for s, value in enumerate(vals):
            v = value or 0
            h = 0 if top == 0 else plot_h * v / top
            y = height - bottom - h
            name = series[s] if s < len(series) else ""
            parts.append(
                f'<rect class="bar" x="{x0 + s * bar_w:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{colors[s % len(colors)]}" data-label="{escape(label)}" '
                f'data-series="{escape(name)}" data-value="{_fmt(value)}"><title>{escape(label)} · {escape(name)}: '
                f'{_fmt(value)}</title></rect>')
        if i % label_every == 0:
            short = _short(label, slot * label_every)
            parts.append(f'<text x="{x0 + (slot - 8) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                         f'font-size="10" fill="#374151">{escape(short)}</text>')
    if n_series > 1:
        x = left
        for s, name in enumerate(series):
            parts.append(f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{colors[s % len(colors)]}"/>'
                         f'<text x="{x + 14}" y="{height - 3}" font-size="10" fill="#374151">{escape(name)}</text>')
            x += 14 + 7 * len(name) + 12
    parts.append("</svg>")
    return mark_safe("".join(parts))
