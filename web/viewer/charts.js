// Time-series widgets, drawn by uPlot: the chart fills its widget and follows its size, the
// y axis is as wide as its longest label, and the legend shows each line's latest value
// (the value under the cursor while hovering). A widget with `anomalies` also draws each
// line's anomaly band (a shaded area between its lower and upper edges) and marks its
// anomalies (red points, their explanation under the cursor). A widget with `forecast` draws
// each line's forecast past the range (a dashed line in its 80% and 95% bands), and one
// with `changePoints` marks each shift with a vertical line (what changed under the cursor).
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
  const SHIFT = "#8f3bb8";

  // The band's edges of each line that has one, then the anomalies as one series of points
  // on the buckets they fall in (null elsewhere), with their explanations.
  function overlay(widget, data) {
    const banded = data.series.filter((line) => line.baseline && line.lower && line.upper);
    const marks = widget.anomalies ? data.anomalies || [] : [];
    const forecasted = data.series.filter((line) => line.forecast);
    if (!banded.length && !widget.anomalies && !forecasted.length && !widget.changePoints) return null;
    const times = data.timestamps;
    const step = (data.step || 60) * 1000;
    const bucketOf = (at) => {
      let i = times.length - 1;
      while (i > 0 && times[i] > at) i--;
      return times.length && at >= times[i] && at < times[i] + step ? i : -1;
    };
    const points = times.map(() => null);
    const words = times.map(() => null);
    for (const mark of marks) {
      const i = bucketOf(mark.at);
      if (i >= 0 && (points[i] === null || mark.score > words[i].score)) {
        points[i] = mark.value;
        words[i] = mark;
      }
    }
    // A change point sits on its line's value at the shift (the mean after it if empty).
    const shifts = times.map(() => null);
    const changes = times.map(() => null);
    for (const change of widget.changePoints ? data.changePoints || [] : []) {
      const i = bucketOf(change.at);
      if (i < 0) continue;
      const line = data.series.find((l) => l.query === change.query
        && JSON.stringify(l.tags) === JSON.stringify(change.tags));
      shifts[i] = line && line.values[i] !== null ? line.values[i] : change.meanAfter;
      changes[i] = change;
    }
    return {
      banded: banded, points: points, words: words, count: marks.length,
      forecasted: forecasted, shifts: shifts, changes: changes,
    };
  }

  function describeChange(change, unit) {
    const text = change.change.replace(/_/g, " ") + " shift: " + formatValue(change.meanBefore, unit)
      + " \u2192 " + formatValue(change.meanAfter, unit);
    return change.audit.length ? text + " (" + change.audit.join("; ") + ")" : text;
  }

  // A vertical dashed line at each change point, over the whole plot.
  function changeLines(shown) {
    return (u) => {
      const { ctx, bbox } = u;
      ctx.save();
      ctx.strokeStyle = SHIFT;
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = window.uPlot.pxRatio;
      shown.changes.forEach((change, i) => {
        if (!change) return;
        const x = Math.round(u.valToPos(u.data[0][i], "x", true));
        ctx.beginPath();
        ctx.moveTo(x, bbox.top);
        ctx.lineTo(x, bbox.top + bbox.height);
        ctx.stroke();
      });
      ctx.restore();
    };
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
      if (widget.anomalies) {
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
      shown.forecasted.forEach((line) => {
        const color = colorOf(view, lineLabel(widget, line));
        const path = (name, dash) => ({
          label: lineLabel(widget, line) + " " + name,
          stroke: color + (dash ? "" : "60"),
          width: dash ? 1.5 : 1,
          dash: dash ? [6, 3] : undefined,
          points: { show: false },
          value: (u, v) => formatValue(v, widget.unit),
        });
        const first = lines.length + extra.length + 1;
        extra.push(path("forecast", true), path("upper 95%"), path("lower 95%"),
          path("upper 80%"), path("lower 80%"));
        bands.push({ series: [first + 1, first + 2], fill: color + "18" });
        bands.push({ series: [first + 3, first + 4], fill: color + "30" });
      });
      if (widget.changePoints) {
        extra.push({
          label: "changes",
          stroke: SHIFT,
          width: 0,
          paths: () => null,
          points: { show: true, size: 9, fill: SHIFT, stroke: "#ffffff", width: 1 },
          value: (u, v, index, idx) => {
            const change = idx == null ? null : shown.changes[idx];
            return change ? describeChange(change, widget.unit) : String(shown.changes.filter(Boolean).length);
          },
        });
      }
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
      hooks: shown && widget.changePoints ? { draw: [changeLines(shown)] } : {},
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
    const labels = (lines) => lines.map((line) => lineLabel(widget, line)).join("\n");
    const key = labels(data.series) + (shown
      ? "\nbands\n" + labels(shown.banded) + "\nforecasts\n" + labels(shown.forecasted)
      : "");
    const columns = [data.timestamps.map((t) => t / 1000), ...data.series.map((l) => l.values)];
    if (shown) {
      shown.banded.forEach((line) => columns.push(line.upper, line.lower));
      if (widget.anomalies) columns.push(shown.points);
      shown.forecasted.forEach((line) => {
        const f = line.forecast;
        columns.push(f.mean, f.upper95, f.lower95, f.upper80, f.lower80);
      });
      if (widget.changePoints) columns.push(shown.shifts);
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
