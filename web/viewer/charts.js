// Time-series widgets, drawn by uPlot: the chart fills its widget and follows its size, the
// y axis is as wide as its longest label, and the legend shows each line's latest value
// (the value under the cursor while hovering). A widget with `anomalies` also draws each
// line's anomaly band (a shaded area between its lower and upper edges) and marks its
// anomalies (red points, their explanation under the cursor).
(function () {
  "use strict";
  const { formatValue, formatTicks, incrementsFor } = window.vigilUnits;
  const PALETTE = [
    "#3274d9", "#e0752d", "#37872d", "#c4162a", "#8f3bb8",
    "#1f9e9e", "#a16800", "#d44a8c", "#5a6f8a", "#6e9e1f",
  ];
  const AXIS = {
    stroke: "#5b6470",
    grid: { stroke: "#eceef1", width: 1 },
    ticks: { stroke: "#dde1e6", width: 1, size: 4 },
  };
  // uPlot's date templates, 24-hour: tick increment (s), the label, then what a label gains
  // when the year, month, day, hour, minute or second changes, and the mode.
  const TIME_TICKS = [
    [86400 * 365, "{YYYY}", null, null, null, null, null, null, 1],
    [86400 * 28, "{MMM}", "\n{YYYY}", null, null, null, null, null, 1],
    [86400, "{MMM} {D}", "\n{YYYY}", null, null, null, null, null, 1],
    [3600, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MMM} {D}", null, null, null, 1],
    [60, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MMM} {D}", null, null, null, 1],
    [1, "{HH}:{mm}:{ss}", "\n{YYYY}-{MM}-{DD}", null, "\n{MMM} {D}", null, null, null, 1],
  ];
  const CURSOR_TIME = window.uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}");

  function lineLabel(widget, line) {
    const tags = Object.entries(line.tags || {}).map(([k, v]) => k + "=" + v).join(", ");
    const query = widget.queries[line.query] || {};
    return [line.label || query.label, tags].filter(Boolean).join(" ") || "value";
  }

  function latest(values) {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }

  function hasPoints(data) {
    return data.series.some((line) => line.values.some((v) => v !== null));
  }

  // The width of the widest tick label, so "120 ms" or "1.5k points/s" is never clipped.
  function axisSize(u, values, axisIndex, cycle) {
    const axis = u.axes[axisIndex];
    if (cycle > 1) return axis._size; // uPlot re-asks until the sizes settle; stop here
    u.ctx.font = axis.font[0];
    const widest = Math.max(0, ...(values || []).map((v) => u.ctx.measureText(v).width));
    return Math.ceil(axis.ticks.size + axis.gap + widest / window.uPlot.pxRatio) + 4;
  }

  // A line keeps the colour it was first given in its widget, whatever comes and goes.
  function colorOf(view, label) {
    if (!view.colors.has(label)) view.colors.set(label, PALETTE[view.colors.size % PALETTE.length]);
    return view.colors.get(label);
  }

  const MARK = "#c4162a";

  // The band's edges of each line that has one, then the anomalies as one series of points
  // on the buckets they fall in (null elsewhere), with their explanations.
  function overlay(widget, data) {
    const banded = data.series.filter((line) => line.baseline && line.lower && line.upper);
    const marks = data.anomalies || [];
    if (!banded.length && !marks.length) return null;
    const times = data.timestamps;
    const step = (data.step || 60) * 1000;
    const points = times.map(() => null);
    const words = times.map(() => null);
    for (const mark of marks) {
      let i = times.length - 1;
      while (i > 0 && times[i] > mark.at) i--;
      if (times.length && mark.at >= times[i] && mark.at < times[i] + step) {
        if (points[i] === null || mark.score > words[i].score) {
          points[i] = mark.value;
          words[i] = mark;
        }
      }
    }
    return { banded: banded, points: points, words: words, count: marks.length };
  }

  function options(view, widget, data) {
    const yAxis = {
      ...AXIS,
      size: axisSize,
      values: (u, ticks, axisIndex, space, increment) => formatTicks(ticks, widget.unit, increment),
    };
    const whole = data.series.every((l) => l.values.every((v) => v === null || Number.isInteger(v)));
    const increments = incrementsFor(widget.unit, whole);
    if (increments) yAxis.incrs = increments;
    const lines = data.series.map((line) => {
      const color = colorOf(view, lineLabel(widget, line));
      return {
        label: lineLabel(widget, line),
        stroke: color,
        ...(data.series.length === 1 ? { fill: color + "14" } : {}), // one line: a light area
        width: 1.5,
        spanGaps: true,
        points: { size: 4 },
        value: (u, v, index, idx) => formatValue(idx == null ? latest(u.data[index]) : v, widget.unit),
      };
    });
    const time = {
      label: "",
      class: "x-legend",
      value: (u, v, index, idx) => (idx == null || v == null ? "" : CURSOR_TIME(new Date(v * 1e3))),
    };
    const extra = [];
    const bands = [];
    const shown = overlay(widget, data);
    if (shown) {
      shown.banded.forEach((line) => {
        const color = colorOf(view, lineLabel(widget, line));
        const edge = (name) => ({
          label: lineLabel(widget, line) + " " + name,
          stroke: color + "80",
          width: 1,
          dash: [4, 4],
          spanGaps: true,
          points: { show: false },
          value: (u, v) => formatValue(v, widget.unit),
        });
        const upper = lines.length + extra.length + 1;
        extra.push(edge("upper"), edge("lower"));
        bands.push({ series: [upper, upper + 1], fill: color + "24" });
      });
      extra.push({
        label: "anomalies",
        stroke: MARK,
        width: 0,
        paths: () => null,
        points: { show: true, size: 9, fill: MARK, stroke: "#ffffff", width: 1 },
        value: (u, v, index, idx) => {
          const mark = idx == null ? null : shown.words[idx];
          return mark ? mark.explanation : String(shown.count);
        },
      });
    }
    const all = lines.concat(extra);
    return {
      width: 100,
      height: 100,
      series: [time].concat(all),
      bands: bands,
      scales: { x: { time: true } },
      axes: [{ ...AXIS, values: TIME_TICKS }, yAxis],
      // Hovering an empty bucket shows the nearest point within 32 px, as a line joins them.
      cursor: { points: { size: 6 }, focus: { prox: 16 }, hover: { skip: [null, undefined], prox: 32 } },
      focus: { alpha: 0.35 },
      // The marker is a short bar of the line's colour (a filled line's fill is too pale).
      legend: { live: true, markers: { width: 0, fill: (u, i) => all[i - 1].stroke } },
    };
  }

  // Fill the box: the plot gets the height that the legend, wrapped to the box's width,
  // leaves (uPlot applies a new size later, so the legend is given its width here).
  function fit(chart, box) {
    const width = Math.max(box.clientWidth, 50);
    const legend = chart.root.querySelector(".u-legend");
    let room = box.clientHeight;
    if (legend) {
      legend.style.width = width + "px";
      legend.style.maxHeight = Math.floor(box.clientHeight * 0.35) + "px";
      room -= legend.offsetHeight;
    }
    const height = Math.max(room, 60);
    if (chart.width !== width || chart.height !== height) chart.setSize({ width, height });
  }

  function destroy(view) {
    if (view.resizer) view.resizer.disconnect();
    if (view.chart) view.chart.destroy();
    view.chart = null;
    view.resizer = null;
    view.chartKey = null;
  }

  // Show `data` in `view.body`: the same lines are updated in place, other lines rebuild
  // the chart, and a widget without a single point says so.
  function drawChart(view, widget, data, showEmpty) {
    if (!hasPoints(data)) {
      destroy(view);
      showEmpty(view, "No data in this time range");
      return;
    }
    const shown = overlay(widget, data);
    const key = data.series.map((line) => lineLabel(widget, line)).join("\n")
      + (shown ? "\n" + shown.banded.map((line) => lineLabel(widget, line)).join("\n") + "\nmarks" : "");
    const columns = [data.timestamps.map((t) => t / 1000), ...data.series.map((l) => l.values)];
    if (shown) {
      shown.banded.forEach((line) => columns.push(line.upper, line.lower));
      columns.push(shown.points);
    }
    if (view.chart && view.chartKey === key) {
      view.chart.setData(columns);
      return;
    }
    destroy(view);
    view.body.textContent = "";
    const box = document.createElement("div");
    box.className = "chart";
    view.body.appendChild(box);
    view.chart = new window.uPlot(options(view, widget, data), columns, box);
    view.chartKey = key;
    fit(view.chart, box);
    view.resizer = new ResizeObserver(() => view.chart && fit(view.chart, box));
    view.resizer.observe(box);
  }

  window.vigilCharts = { drawChart: drawChart, destroy: destroy };
})();
