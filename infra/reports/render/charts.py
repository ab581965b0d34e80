"""Report charts: one ChartSection to a PNG or JPEG image, drawn with matplotlib's Agg canvas.

No pyplot: each chart is its own `Figure` on its own `FigureCanvasAgg`, so charts can be
drawn from several threads or processes at once without touching matplotlib's global
state (pyplot's figure manager and its backend switch are not thread-safe).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter
from PIL import Image

from domain.reports.document import ChartSection, SeriesLine

__all__ = [
    "MAX_LEGEND",
    "MAX_LINES",
    "ChartImage",
    "ImageFormat",
    "chart_canvas",
    "draw_chart",
    "has_points",
]

MAX_LINES = 100  # lines drawn per chart; past that the chart is a blur (the note says so)
MAX_LEGEND = 12  # legend entries; the rest are summed up as "+N more"
LABEL_CHARS = 48  # a legend label longer than this is shortened in the middle
# The width of A4's text block (18 cm): fonts print at the sizes set here; 140 dpi keeps
# thin lines sharp (1008 x 420 px).
WIDTH_IN, HEIGHT_IN, DPI = 7.2, 3.0, 140
# Tableau's ten, then the same hues darker: adjacent lines stay distinct up to 20.
COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#0f3b5a", "#803f07", "#165016", "#6b1414", "#4a335e",
    "#462b25", "#713261", "#404040", "#5e5e11", "#0c5f68",
]  # fmt: skip
US_PER_DAY = 86_400_000_000

ImageFormat = Literal["PNG", "JPEG"]


@dataclass(frozen=True, slots=True)
class ChartImage:
    """A drawn chart: the image and what the caption must say about lines left out."""

    data: bytes
    media_type: str
    width_px: int
    height_px: int
    lines_drawn: int
    lines_total: int


def has_points(section: ChartSection) -> bool:
    return any(v is not None for line in section.lines for v in line.values)


def _peak(line: SeriesLine) -> float:
    finite = [v for v in line.values if v is not None and math.isfinite(v)]
    return max(finite) if finite else -math.inf


def legend_labels(lines: list[SeriesLine]) -> list[str]:
    """Each line's label; lines with tags are named by the tags that differ between them
    (`host=web-1` rather than the full series name that repeats what they share)."""
    if len(lines) > 1 and all(line.tags for line in lines):
        keys = sorted({k for line in lines for k in line.tags})
        varying = [k for k in keys if len({line.tags.get(k) for line in lines}) > 1]
        if varying:
            return [
                _short(", ".join(f"{k}={line.tags.get(k, '')}" for k in varying)) for line in lines
            ]
    return [_short(line.label) for line in lines]


def _short(label: str) -> str:
    if len(label) <= LABEL_CHARS:
        return label
    half = (LABEL_CHARS - 1) // 2
    return f"{label[:half]}…{label[-half:]}"


def _as_arrays(line: SeriesLine) -> tuple[np.ndarray, np.ndarray]:
    # Matplotlib's date axis counts days since 1970-01-01 UTC; floats skip datetime objects.
    days = np.asarray(line.times_us, dtype=np.float64) / US_PER_DAY
    values = np.array([np.nan if v is None else v for v in line.values], dtype=np.float64)
    values[~np.isfinite(values)] = np.nan  # an infinite value would flatten the scale
    return days, values


def draw_chart(
    section: ChartSection,
    timezone: str,
    *,
    from_us: int,
    to_us: int,
    image_format: ImageFormat = "PNG",
) -> ChartImage:
    """Draw `section` over [from_us, to_us] with times in `timezone`, as an image."""
    canvas, drawn = chart_canvas(section, timezone, from_us=from_us, to_us=to_us)
    width, height = canvas.get_width_height()
    rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
    data = _encode(rgba[:, :, :3], image_format)
    media_type = f"image/{image_format.lower()}"
    return ChartImage(data, media_type, width, height, drawn, len(section.lines))


def chart_canvas(
    section: ChartSection, timezone: str, *, from_us: int, to_us: int
) -> tuple[FigureCanvasAgg, int]:
    """The drawn canvas of `section` and how many lines it shows.

    Lines are ranked by their peak (highest first): the first MAX_LINES are drawn, the first
    MAX_LEGEND named in the legend. Empty buckets (None) are gaps, not zeros.
    """
    tz = ZoneInfo(timezone)
    ranked = sorted(section.lines, key=_peak, reverse=True)
    drawn = [line for line in ranked[:MAX_LINES] if line.times_us]
    # Fixed margins: constrained layout cost a third of a chart's time, and the parts are
    # known (short engineering tick labels, a legend of at most LABEL_CHARS characters).
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    labels = legend_labels(drawn[:MAX_LEGEND]) if len(section.lines) > 1 else []
    named = len(labels)
    if len(section.lines) > named and labels:
        labels.append(f"+{len(section.lines) - named} more")
    # About 0.062 in per character at 7 pt, plus the handle: the legend's share of the width.
    legend_in = (max(map(len, labels)) * 0.062 + 0.45) if labels else 0.0
    fig.subplots_adjust(left=0.09, right=0.98 - legend_in / WIDTH_IN, top=0.95, bottom=0.17)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for index, line in enumerate(drawn):
        days, values = _as_arrays(line)
        colour = COLOURS[index % len(COLOURS)]
        width = 1.1 if index < MAX_LEGEND else 0.7
        # A line needs two points: a lone value (or very few) shows as dots as well.
        marker = "o" if np.count_nonzero(~np.isnan(values)) < 3 else None
        ax.plot(days, values, color=colour, linewidth=width, marker=marker, markersize=3)
    ax.set_xlim(from_us / US_PER_DAY, to_us / US_PER_DAY)
    # matplotlib's stubs leave these untyped.
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    # Day ticks as "Fri 22": a weekly report is read by weekday.
    formats = ["%Y", "%b", "%a %d", "%H:%M", "%H:%M", "%S.%f"]
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
            locator, tz=tz, formats=formats, show_offset=True
        )
    )
    ax.set_xlabel(f"time ({timezone})", fontsize=9)
    ax.set_ylabel(section.unit or "value", fontsize=9)
    ax.yaxis.set_major_formatter(EngFormatter(sep=""))
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#e0e0e0", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if labels:
        _legend(ax, labels, named=named)
    canvas.draw()  # type: ignore[no-untyped-call]
    return canvas, len(drawn)


def _encode(rgb: np.ndarray, image_format: ImageFormat) -> bytes:
    """PNG (lossless, for HTML) or JPEG (for PDF: WeasyPrint embeds a JPEG as it is, where
    it decodes and re-compresses every PNG, which cost 30 ms a chart). Either is RGB: an
    alpha channel would be re-encoded as a second image."""
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if image_format == "JPEG":
        # No chroma subsampling and a high quality: thin coloured lines keep their colour.
        image.save(buffer, format="JPEG", quality=92, subsampling=0)
    else:
        image.save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()


def _legend(ax: Axes, labels: list[str], *, named: int) -> None:
    """Name the first `named` lines beside the plot; a last label says "+N more"."""
    handles = [Line2D([], [], color=COLOURS[i % len(COLOURS)], linewidth=1.6) for i in range(named)]
    if len(labels) > named:
        handles.append(Line2D([], [], color="none"))
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        frameon=False,
        handlelength=1.4,
    )
