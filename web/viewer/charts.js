// Time-series widgets, drawn by uPlot: the chart fills its widget and follows its size, the
// y axis is as wide as its longest label, and the legend shows each line's latest value
// (the value under the cursor while hovering).
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
    return {
      width: 100,
      height: 100,
      series: [time].concat(lines),
      scales: { x: { time: true } },
      axes: [{ ...AXIS, values: TIME_TICKS }, yAxis],
      // Hovering an empty bucket shows the nearest point within 32 px, as a line joins them.
      cursor: { points: { size: 6 }, focus: { prox: 16 }, hover: { skip: [null, undefined], prox: 32 } },
      focus: { alpha: 0.35 },
      // The marker is a short bar of the line's colour (a filled line's fill is too pale).
      legend: { live: true, markers: { width: 0, fill: (u, i) => lines[i - 1].stroke } },
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
    const key = data.series.map((line) => lineLabel(widget, line)).join("\n");
    const columns = [data.timestamps.map((t) => t / 1000), ...data.series.map((l) => l.values)];
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
