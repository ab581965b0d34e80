// Drawing of each widget kind: charts by uPlot, Markdown by markdown-it (raw HTML off, so
// a text widget cannot inject markup or scripts), everything else as plain DOM text.
(function () {
  "use strict";
  const PALETTE = ["#3274d9", "#e0752d", "#37872d", "#c4162a", "#8f3bb8", "#1f9e9e", "#a16800"];
  const markdown = window.markdownit({ html: false, linkify: false, typographer: false });

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatted(value, unit) {
    if (value === null || value === undefined) return "–";
    const abs = Math.abs(value);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    return value.toFixed(digits) + (unit ? " " + unit : "");
  }

  function lineLabel(widget, line) {
    const tags = Object.entries(line.tags || {}).map(([k, v]) => k + "=" + v).join(", ");
    const query = widget.queries[line.query] || {};
    return [line.label || query.label, tags].filter(Boolean).join(" ") || "value";
  }

  function chartData(data) {
    return [data.timestamps.map((t) => t / 1000), ...data.series.map((line) => line.values)];
  }

  function chartSize(body) {
    return { width: Math.max(body.clientWidth, 50), height: Math.max(body.clientHeight - 30, 40) };
  }

  function drawChart(view, widget, data) {
    const existing = view.chart;
    if (existing && existing.series.length === data.series.length + 1) {
      existing.setData(chartData(data));
      return existing;
    }
    if (existing) existing.destroy();
    view.body.textContent = "";
    const series = [{}].concat(
      data.series.map((line, i) => ({
        label: lineLabel(widget, line),
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: true,
      }))
    );
    const options = {
      ...chartSize(view.body),
      series: series,
      scales: { x: { time: true } },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => formatted(t, widget.unit)) }],
    };
    view.chart = new window.uPlot(options, chartData(data), view.body);
    return view.chart;
  }

  function drawStat(view, widget, data) {
    view.body.textContent = "";
    const value = el("div", "stat", formatted(data.value, widget.unit));
    if (data.color) value.style.color = data.color;
    view.body.appendChild(value);
  }

  function drawGauge(view, widget, data) {
    view.body.textContent = "";
    const box = el("div", "gauge");
    const meter = el("meter");
    meter.min = widget.min;
    meter.max = widget.max;
    meter.value = data.value === null ? widget.min : data.value;
    const reading = el("div", "stat", formatted(data.value, widget.unit));
    if (data.color) reading.style.color = data.color;
    box.append(reading, meter);
    view.body.appendChild(box);
  }

  function drawTable(view, widget, data) {
    view.body.textContent = "";
    const table = el("table");
    const keys = [...new Set(data.rows.flatMap((row) => Object.keys(row.tags)))].sort();
    const head = el("tr");
    keys.concat(["value"]).forEach((key) => head.appendChild(el("th", "", key)));
    table.appendChild(head);
    data.rows.forEach((row) => {
      const tr = el("tr");
      keys.forEach((key) => tr.appendChild(el("td", "", row.tags[key] || "")));
      tr.appendChild(el("td", "", formatted(row.value, widget.unit)));
      table.appendChild(tr);
    });
    view.body.appendChild(table);
  }

  function drawAlerts(view, widget, data) {
    view.body.textContent = "";
    const list = el("ul", "alerts");
    data.alerts.forEach((alert) => {
      const item = el("li");
      item.append(el("span", "state-" + alert.state, alert.state), " " + alert.name);
      list.appendChild(item);
    });
    if (!data.alerts.length) list.appendChild(el("li", "", "No alerts"));
    view.body.appendChild(list);
  }

  function drawText(view, widget) {
    view.body.innerHTML = markdown.render(widget.text || "");
  }

  const DRAW = {
    TIMESERIES: drawChart,
    STAT: drawStat,
    GAUGE: drawGauge,
    TABLE: drawTable,
    ALERT_LIST: drawAlerts,
    TEXT: drawText,
  };

  // A widget's box on the 24-column grid; `draw` shows new data in it.
  function makeView(grid, widget) {
    const box = el("section", "widget");
    box.dataset.widget = widget.id;
    box.style.gridColumn = widget.layout.x + 1 + " / span " + widget.layout.w;
    box.style.gridRow = widget.layout.y + 1 + " / span " + widget.layout.h;
    box.appendChild(el("h2", "", widget.title));
    const body = el("div", "body");
    box.appendChild(body);
    grid.appendChild(box);
    const view = { box: box, body: body, chart: null };
    view.draw = function (data) {
      if (data.error) {
        if (view.chart) view.chart.destroy();
        view.chart = null;
        body.textContent = "";
        body.appendChild(el("p", "error", data.error));
        return;
      }
      DRAW[widget.kind](view, widget, data);
    };
    if (widget.kind === "TEXT") drawText(view, widget);
    return view;
  }

  window.vigilWidgets = { makeView: makeView };
})();
