"""The storage bench's table: one row per figure, Vigil beside VictoriaMetrics, the ratio,
the issue's target and whether it is met; printed as Markdown for docs/performance.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Row", "answers_table", "render", "rows_of"]


@dataclass(frozen=True, slots=True)
class Row:
    """A figure where lower is better. `max_ratio`: the target as Vigil / peer;
    `max_vigil`: the target as an absolute bound on Vigil's figure; neither: reported only."""

    figure: str
    unit: str
    peer: float | None
    vigil: float | None
    max_ratio: float | None = None
    max_vigil: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.peer is None or self.vigil is None or self.peer <= 0:
            return None
        return self.vigil / self.peer

    @property
    def target(self) -> str:
        if self.max_ratio is not None:
            return f"<= {_number(self.max_ratio)}x VM"
        if self.max_vigil is not None:
            return f"<= {_number(self.max_vigil)} {self.unit}"
        return "reported"

    @property
    def met(self) -> bool | None:
        """None when there is no target, or nothing to judge it by."""
        if self.max_ratio is not None:
            ratio = self.ratio
            return None if ratio is None else ratio <= self.max_ratio
        if self.max_vigil is not None and self.vigil is not None:
            return self.vigil <= self.max_vigil
        return None

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "figure": self.figure,
            "unit": self.unit,
            "victoria_metrics": _rounded(self.peer),
            "vigil": _rounded(self.vigil),
            "ratio": None if ratio is None else round(ratio, 2),
            "target": self.target,
            "met": self.met,
        }


def render(rows: list[Row]) -> str:
    """A Markdown table: figure | VM | Vigil | ratio | target | met?"""
    lines = [
        "| figure | VictoriaMetrics | Vigil | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row.ratio
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(
            f"| {row.figure} | {_cell(row.peer, row.unit)} | {_cell(row.vigil, row.unit)} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {row.target} | {met} |"
        )
    return "\n".join(lines)


def _cell(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{_number(value)} {unit}"


def _number(value: float) -> str:
    """Three significant figures at most, thousands separated: 0.312, 8.62, 45.1, 1,204."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _rounded(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def rows_of(
    result: dict[str, Any], targets: dict[str, tuple[float | None, float | None]]
) -> list[Row]:
    """The table from the storage bench's result: `targets` gives each query case's
    (max ratio, max ms)."""
    vigil, peer = result["vigil"], result.get("victoria_metrics") or {}

    def both(*path: str) -> tuple[float | None, float | None]:
        return _dig(peer, path), _dig(vigil, path)

    rows = [
        Row("ingest, server CPU per point", "us", *both("ingest", "cpu_us_per_point")),
        Row("visible after the last acknowledgement", "ms", *both("ingest", "visible_after_ms")),
        Row("disk per point (1M points)", "B", *both("disk", "bytes_per_point"), max_ratio=3.0),
        Row(
            "disk per point, Vigil's whole file",
            "B",
            None,
            _dig(vigil, ("disk", "file_bytes_per_point")),
        ),
    ]
    for key, case in result["cases"].items():
        max_ratio, max_ms = targets[key]
        rows.append(
            Row(
                f"{key[0]}. {case['label']}",
                "ms",
                case.get("victoria_metrics_ms"),
                case["vigil_ms"],
                max_ratio=max_ratio,
                max_vigil=max_ms,
            )
        )
        if key.startswith("d"):  # the order: RSS after the four queries
            rss = both("after_queries", "rss_mb")
            rows.append(Row("RSS after ingest and queries", "MB", *rss, max_ratio=2.0))
            workers = both("after_queries", "children_rss_mb")
            rows.append(Row("RSS of the server's child processes", "MB", *workers))
    history = both("disk_at_end", "bytes_per_point")
    rows.append(Row("disk per point, all data (1M points + the history)", "B", *history))
    return rows


def answers_table(cases: dict[str, Any]) -> str:
    """Per query: values compared, mismatches, and the Vigil tier that served it."""
    lines = [
        "| query | values (Vigil / VM) | mismatches | Vigil served from | MetricsQL |",
        "|---|---|---|---|---|",
    ]
    for key, case in cases.items():
        answers = case.get("answers") or {}
        values = f"{answers.get('values', '-')} / {answers.get('peer_values', '-')}"
        lines.append(
            f"| {key} | {values} | {answers.get('mismatches', '-')} | "
            f"{case['vigil_resolution']} | `{case.get('metricsql', '-')}` |"
        )
    return "\n".join(lines)


def _dig(tree: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node is None else float(node)
