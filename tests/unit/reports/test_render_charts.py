"""Report charts: what the axes and legend say, and drawing from threads and processes."""

from __future__ import annotations

import io
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from PIL import Image

from domain.reports.document import ChartSection, SeriesLine
from infra.reports.render import render
from infra.reports.render.charts import (
    MAX_LEGEND,
    chart_canvas,
    draw_chart,
    has_points,
    legend_labels,
)
from tests.unit.reports.documents import FROM_US, HOUR_US, TO_US, line, small_document


def axes_of(section: ChartSection, timezone: str, from_us: int, to_us: int) -> Axes:
    canvas, _ = chart_canvas(section, timezone, from_us=from_us, to_us=to_us)
    (ax,) = canvas.figure.axes
    return ax


def texts(items: list[object]) -> list[str]:
    return [item.get_text() for item in items]  # type: ignore[attr-defined]


def test_time_ticks_are_in_the_reports_zone() -> None:
    start = int(datetime(2026, 6, 1, 0, 0, tzinfo=UTC).timestamp()) * 1_000_000
    end = start + 6 * HOUR_US
    times = list(range(start, end + 1, HOUR_US))
    section = ChartSection("x", [SeriesLine("a", times, [1.0] * len(times))], unit="ms")
    utc = axes_of(section, "UTC", start, end)
    tokyo = axes_of(section, "Asia/Tokyo", start, end)
    assert texts(utc.get_xticklabels())[:2] == ["Mon 01", "01:00"]
    assert texts(tokyo.get_xticklabels())[:2] == ["09:00", "10:00"]  # UTC+9
    assert utc.get_xlabel() == "time (UTC)"
    assert tokyo.get_xlabel() == "time (Asia/Tokyo)"
    assert utc.get_ylabel() == "ms"


def test_value_ticks_use_engineering_prefixes() -> None:
    times = list(range(FROM_US, TO_US, HOUR_US))
    values: list[float | None] = [float(i) * 1e8 for i in range(len(times))]
    ax = axes_of(ChartSection("Disk", [SeriesLine("d", times, values)], unit="B"), "UTC",
                 FROM_US, TO_US)  # fmt: skip
    labels = [t for t in texts(ax.get_yticklabels()) if t]
    assert any(label.endswith("G") for label in labels), labels
    assert ax.get_ylabel() == "B"


def test_the_legend_names_at_most_a_dozen_lines_and_counts_the_rest() -> None:
    lines = [line(f"cpu{{host=web-{i:02d},dc=eu}}", i, host=f"web-{i:02d}", dc="eu")
             for i in range(30)]  # fmt: skip
    ax = axes_of(ChartSection("CPU", lines, unit="%"), "Europe/Paris", FROM_US, TO_US)
    legend = ax.get_legend()
    labels = texts(legend.get_texts())
    assert len(labels) == MAX_LEGEND + 1
    assert labels[-1] == f"+{30 - MAX_LEGEND} more"
    # Named by the tag that tells them apart, not the shared dc=eu.
    assert all(label.startswith("host=web-") for label in labels[:-1])
    assert len(ax.get_lines()) == 30


def test_legend_labels() -> None:
    a = SeriesLine("cpu{host=a,dc=eu}", [], [], {"host": "a", "dc": "eu"})
    b = SeriesLine("cpu{host=b,dc=eu}", [], [], {"host": "b", "dc": "eu"})
    untagged = SeriesLine("x" * 80, [], [])
    assert legend_labels([a, b]) == ["host=a", "host=b"]
    assert legend_labels([a]) == ["cpu{host=a,dc=eu}"]
    (short,) = legend_labels([untagged])
    assert len(short) <= 48 and "…" in short


def test_a_single_line_has_no_legend_and_gaps_stay_gaps() -> None:
    section = ChartSection("One", [line("only", 1)], unit="%")
    ax = axes_of(section, "UTC", FROM_US, TO_US)
    assert ax.get_legend() is None
    (drawn,) = ax.get_lines()
    assert np.isnan(np.asarray(drawn.get_ydata(), dtype=float)[5:8]).all()


def test_no_points_means_no_chart() -> None:
    empty = ChartSection("e", [SeriesLine("a", [FROM_US], [None])])
    assert not has_points(empty)
    assert has_points(ChartSection("p", [line("a", 1)]))


def test_png_and_jpeg_images_of_the_same_size() -> None:
    section = ChartSection("CPU", [line(f"s{i}", i) for i in range(4)], unit="%")
    png = draw_chart(section, "UTC", from_us=FROM_US, to_us=TO_US)
    jpeg = draw_chart(section, "UTC", from_us=FROM_US, to_us=TO_US, image_format="JPEG")
    assert (png.media_type, jpeg.media_type) == ("image/png", "image/jpeg")
    for chart, fmt in ((png, "PNG"), (jpeg, "JPEG")):
        image = Image.open(io.BytesIO(chart.data))
        assert image.format == fmt
        assert image.mode == "RGB"
        assert image.size == (chart.width_px, chart.height_px) == (1008, 420)
        pixels = np.asarray(image.convert("L"), dtype=float)
        assert pixels.std() > 10  # lines drawn, not a blank canvas


def test_renders_from_threads_give_the_same_page_as_one_at_a_time() -> None:
    documents = [small_document(title=f"Report {i}") for i in range(4)]
    alone = [render(d, "HTML")[0].content for d in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = [files[0].content for files in pool.map(render, documents, ["HTML"] * 4)]
    assert threaded == alone


def test_renders_in_a_worker_process_the_same_page() -> None:
    document = small_document()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = pool.submit(render, document, "HTML").result(timeout=120)
    assert remote[0].content == render(document, "HTML")[0].content


def test_rendering_never_loads_pyplot() -> None:
    # In a fresh interpreter: another test in this process may have imported pyplot.
    code = (
        "import sys\n"
        "from infra.reports.render import render\n"
        "from tests.unit.reports.documents import small_document\n"
        "render(small_document(), 'PDF'); render(small_document(), 'HTML')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == "False"


def test_a_lone_point_shows_and_infinities_do_not_flatten_the_scale() -> None:
    times = [FROM_US, FROM_US + HOUR_US, FROM_US + 2 * HOUR_US]
    lone = SeriesLine("lone", times, [None, 5.0, None])
    wild = SeriesLine("wild", times, [1.0, float("inf"), 3.0])
    ax = axes_of(ChartSection("x", [lone, wild], unit="s"), "UTC", FROM_US, FROM_US + 3 * HOUR_US)
    drawn = {line.get_label(): line for line in ax.get_lines()}
    assert len(drawn) == 2
    assert all(line.get_marker() == "o" for line in drawn.values())  # few points: dots
    low, high = ax.get_ylim()
    assert 0 < high < 10 and low < 1
