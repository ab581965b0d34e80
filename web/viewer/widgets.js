// Drawing of each widget kind: charts by uPlot (charts.js), Markdown by markdown-it (raw
// HTML off, so a text widget cannot inject markup or scripts), everything else as plain DOM
// text. A widget without data says so; a widget that fails shows its error, alone.
(function () {
  "use strict";
  const { formatValue } = window.vigilUnits;
  const charts = window.vigilCharts;
  const markdown = window.markdownit({ html: false, linkify: false, typographer: false });

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showEmpty(view, text) {
    view.body.textContent = "";
    view.body.appendChild(el("p", "empty", text || "No data"));
  }

  function drawChart(view, widget, data) {
    charts.drawChart(view, widget, data, showEmpty);
  }

  // A big value, its unit smaller; the font follows the box and the length of the text.
  function bigValue(text, color) {
    const space = text.indexOf(" ");
    const number = space < 0 ? text : text.slice(0, space);
    const unit = space < 0 ? "" : text.slice(space);
    const node = el("div", "stat");
    node.append(el("span", "", number), el("span", "unit", unit));
    node.style.setProperty("--chars", String(number.length + 0.55 * unit.length));
    if (color) node.style.color = color;
    return node;
  }

  function drawStat(view, widget, data) {
    if (data.value === null || data.value === undefined) return showEmpty(view);
    view.body.textContent = "";
    view.body.appendChild(bigValue(formatValue(data.value, widget.unit), data.color));
  }

  function drawGauge(view, widget, data) {
    if (data.value === null || data.value === undefined) return showEmpty(view);
    view.body.textContent = "";
    const text = formatValue(data.value, widget.unit);
    const reading = bigValue(text, data.color);
    const meter = el("meter");
    meter.min = widget.min;
    meter.max = widget.max;
    meter.value = Math.min(widget.max, Math.max(widget.min, data.value));
    meter.title = text;
    meter.setAttribute("aria-label", widget.title + ": " + text);
    if (data.color) meter.style.setProperty("--gauge-color", data.color);
    const scale = el("div", "gauge-scale");
    scale.append(
      el("span", "", formatValue(widget.min, widget.unit)),
      el("span", "", formatValue(widget.max, widget.unit))
    );
    const box = el("div", "gauge");
    box.append(reading, meter, scale);
    view.body.appendChild(box);
  }

  function drawTable(view, widget, data) {
    if (!data.rows.length) return showEmpty(view);
    view.body.textContent = "";
    const table = el("table");
    const keys = [...new Set(data.rows.flatMap((row) => Object.keys(row.tags)))].sort();
    const head = el("tr");
    keys.forEach((key) => head.appendChild(el("th", "", key)));
    head.appendChild(el("th", "number", "value"));
    table.appendChild(el("thead")).appendChild(head);
    const body = table.appendChild(el("tbody"));
    data.rows.forEach((row) => {
      const tr = el("tr");
      keys.forEach((key) => tr.appendChild(el("td", "", row.tags[key] || "")));
      tr.appendChild(el("td", "number", formatValue(row.value, widget.unit)));
      body.appendChild(tr);
    });
    view.body.appendChild(table);
  }

  function drawAlerts(view, widget, data) {
    if (!data.alerts.length) return showEmpty(view, "No alerts");
    view.body.textContent = "";
    const list = el("ul", "alerts");
    data.alerts.forEach((alert) => {
      const item = el("li");
      const severity = (alert.severity || "").toLowerCase();
      item.append(
        el("span", "badge state-" + alert.state, alert.state.toLowerCase()),
        el("span", "alert-name", alert.name),
        el("span", "severity severity-" + severity, severity)
      );
      list.appendChild(item);
    });
    view.body.appendChild(list);
  }

  function drawText(view, widget) {
    view.body.innerHTML = markdown.render(widget.text || "");
  }

  function showError(view, message) {
    charts.destroy(view);
    view.box.classList.add("failed");
    view.body.textContent = "";
    const box = el("div", "error");
    box.append(el("strong", "", "Cannot show this widget"), el("p", "", message));
    view.body.appendChild(box);
  }

  const DRAW = {
    TIMESERIES: drawChart,
    STAT: drawStat,
    GAUGE: drawGauge,
    TABLE: drawTable,
    ALERT_LIST: drawAlerts,
    TEXT: drawText,
  };
  // Kinds whose content may be longer than the box: they scroll, charts and values fit.
  const SCROLLS = new Set(["TABLE", "ALERT_LIST", "TEXT"]);

  // A widget's box on the 24-column grid; `draw` shows new data in it.
  function makeView(grid, widget) {
    const box = el("section", "widget kind-" + widget.kind.toLowerCase());
    box.dataset.widget = widget.id;
    const { x, y, w, h } = widget.layout;
    box.style.setProperty("--col", x + 1 + " / span " + w);
    box.style.setProperty("--row", y + 1 + " / span " + h);
    box.style.setProperty("--span", String(h));
    const title = el("h2", "", widget.title);
    title.title = widget.title;
    box.appendChild(title);
    const body = el("div", SCROLLS.has(widget.kind) ? "body scrolls" : "body");
    box.appendChild(body);
    grid.appendChild(box);
    const note = el("span", "note");
    title.appendChild(note);
    const view = { box: box, body: body, chart: null, colors: new Map() };
    view.draw = function (data) {
      if (data.error) return showError(view, data.error);
      view.box.classList.remove("failed");
      // A forecast or change points that could not be had: the lines are drawn, this says why.
      note.textContent = data.overlayError ? " \u00b7 overlay not drawn" : "";
      note.title = data.overlayError || "";
      try {
        DRAW[widget.kind](view, widget, data);
      } catch (error) {
        showError(view, "the viewer could not draw it: " + error.message);
      }
    };
    if (widget.kind === "TEXT") drawText(view, widget);
    else showEmpty(view, "Loading…");
    return view;
  }

  window.vigilWidgets = { makeView: makeView };
})();
