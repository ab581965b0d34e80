// The read-only dashboard viewer: one graphql-transport-ws connection carrying the first
// picture (the `dashboard` query) and then the live updates (`dashboardUpdated`).
(function () {
  "use strict";
  const WIDGET_DATA = `fragment W on WidgetData { widgetId kind step timestamps value color error
    series { query label tags values baseline lower upper
      forecast { mean lower80 upper80 lower95 upper95 model mase coverage95 } }
    rows { tags value } alerts { id name state severity }
    anomalies { query tags at value score explanation } overlayError
    changePoints { query tags at change meanBefore meanAfter audit } }`;
  const LOAD = `query Load($p: String!, $id: ID!, $vars: Tags, $range: Duration, $width: Int) {
    dashboard(project: $p, id: $id, variables: $vars, range: $range, width: $width) {
      id name description version
      widgets { id kind title unit min max text anomalies forecast changePoints
        layout { x y w h } queries { label } }
      data { variables { name value options } widgets { ...W } } } } ` + WIDGET_DATA;
  const LIVE = `subscription Live($p: String!, $id: ID!, $vars: Tags, $range: Duration,
      $width: Int) {
    dashboardUpdated(project: $p, id: $id, variables: $vars, range: $range, width: $width) {
      version widgets { ...W } } } ` + WIDGET_DATA;

  const params = new URLSearchParams(location.search);
  const dashboardId = decodeURIComponent(location.pathname.split("/").pop());
  const project = params.get("project");
  const range = params.get("range");
  const chosen = {};
  for (const [key, value] of params) if (key.startsWith("var-")) chosen[key.slice(4)] = value;

  // Exposed for people in the console and for the browser test.
  const state = { dashboard: null, views: {}, data: {}, charts: {}, updates: 0, status: "" };
  window.vigilViewer = state;

  const $ = (id) => document.getElementById(id);
  let socket = null;
  let token = null;
  let next = 0;
  let operations = {};

  function setStatus(text, kind) {
    state.status = text;
    $("status").textContent = text;
    $("status").className = "status " + (kind || "");
  }

  function variables() {
    return {
      p: project,
      id: dashboardId,
      vars: chosen,
      range: range,
      width: Math.max(100, Math.min(20000, $("grid").clientWidth || window.innerWidth)),
    };
  }

  function send(message) {
    socket.send(JSON.stringify(message));
  }

  function operation(query, onData) {
    const id = String(++next);
    operations[id] = onData;
    send({ id: id, type: "subscribe", payload: { query: query, variables: variables() } });
    return id;
  }

  function render(dashboard) {
    state.dashboard = dashboard;
    document.title = dashboard.name + " · Vigil";
    $("title").textContent = dashboard.name;
    $("description").textContent = dashboard.description;
    const grid = $("grid");
    grid.textContent = "";
    Object.values(state.views).forEach((view) => window.vigilCharts.destroy(view));
    state.views = {};
    state.charts = {};
    // In reading order, which is the order of the single column of a narrow window.
    const byPlace = (a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x;
    dashboard.widgets.slice().sort(byPlace).forEach((widget) => {
      state.views[widget.id] = window.vigilWidgets.makeView(grid, widget);
    });
    renderControls(dashboard.data.variables);
    apply(dashboard.data.widgets);
  }

  function renderControls(states) {
    const form = $("controls");
    form.textContent = "";
    states.forEach((variable) => {
      const label = document.createElement("label");
      label.textContent = "$" + variable.name + " ";
      const select = document.createElement("select");
      ["*"].concat(variable.options).forEach((option) => {
        const item = document.createElement("option");
        item.value = option;
        item.textContent = option === "*" ? "All" : option;
        item.selected = option === variable.value;
        select.appendChild(item);
      });
      select.addEventListener("change", () => {
        chosen[variable.name] = select.value;
        const url = new URL(location.href);
        url.searchParams.set("var-" + variable.name, select.value);
        history.replaceState(null, "", url.pathname + url.search);
        restart();
      });
      label.appendChild(select);
      form.appendChild(label);
    });
  }

  function apply(widgets) {
    widgets.forEach((data) => {
      const view = state.views[data.widgetId];
      if (!view) return;
      state.data[data.widgetId] = data;
      view.draw(data);
      if (view.chart) state.charts[data.widgetId] = view.chart;
      else delete state.charts[data.widgetId];
    });
  }

  function onResult(payload, onData) {
    if (payload.errors && payload.errors.length) {
      setStatus(payload.errors[0].message, "failed");
      return;
    }
    onData(payload.data);
  }

  function restart() {
    Object.keys(operations).forEach((id) => send({ id: id, type: "complete" }));
    operations = {};
    // Live first: whatever arrives between the two is at most as new as the first picture.
    operation(LIVE, (data) => {
      const update = data.dashboardUpdated;
      if (state.dashboard && update.version !== state.dashboard.version) {
        restart();
        return;
      }
      state.updates += 1;
      apply(update.widgets);
    });
    operation(LOAD, (data) => {
      render(data.dashboard);
      setStatus("live", "live");
    });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/graphql", "graphql-transport-ws");
    socket.onopen = () => send({ type: "connection_init", payload: { Authorization: "Bearer " + token } });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") restart();
      else if (message.type === "ping") send({ type: "pong" });
      else if (message.type === "next" && operations[message.id]) {
        onResult(message.payload, operations[message.id]);
      } else if (message.type === "error") {
        setStatus(message.payload[0].message, "failed");
      }
    };
    socket.onclose = (event) => {
      operations = {};
      if (event.code === 4403 || event.code === 4401) {
        setStatus("the token was refused", "failed");
        return;
      }
      setStatus("reconnecting", "failed");
      setTimeout(connect, 2000);
    };
  }

  // The first picture before the page's `load` event, over HTTP: headless snapshots
  // (`chromium --headless --screenshot`) and thumbnails capture at `load`, before a
  // websocket could answer. Synchronous on purpose: nothing else delays `load` until an
  // authenticated request is answered (docs/decisions/00NN-draft-viewer-first-picture.md). The live connection follows.
  function firstPicture() {
    const request = new XMLHttpRequest();
    try {
      request.open("POST", "/graphql", false);
      request.setRequestHeader("Content-Type", "application/json");
      request.setRequestHeader("Authorization", "Bearer " + token);
      request.send(JSON.stringify({ query: LOAD, variables: variables() }));
      const body = JSON.parse(request.responseText);
      if (body.errors && body.errors.length) {
        setStatus(body.errors[0].message, "failed");
        return;
      }
      render(body.data.dashboard);
      setStatus("loaded", "loaded");
    } catch (error) {
      // the websocket will say what is wrong
    }
  }

  function start(given) {
    token = given;
    $("login").hidden = true;
    setStatus("connecting");
    if (document.readyState === "loading") firstPicture();
    connect();
  }

  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    // Out of the address bar (and so of bookmarks and screen shares) at once.
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (!project) {
    setStatus("add ?project=NAME to the address", "failed");
  } else if (fragment.get("token")) {
    start(fragment.get("token"));
  } else {
    $("login").hidden = false;
    setStatus("a token is needed", "failed");
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      start($("token").value);
    });
  }
})();
