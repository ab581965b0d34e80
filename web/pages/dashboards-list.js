// The dashboards of a project (/dashboards?project=NAME#token=TOKEN), each linking to the
// viewer. The token stays in the page: read from the fragment (which browsers never send),
// then removed from the address bar.
(function () {
  "use strict";
  const LIST = `query List($p: String!) { dashboards(project: $p) { items { id name description } } }`;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  let project = params.get("project") || "";
  let token = fragment.get("token") || "";
  if (token) history.replaceState(null, "", location.pathname + location.search);

  function status(text) {
    $("status").textContent = text;
  }

  async function list() {
    status("loading");
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query: LIST, variables: { p: project } }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) {
      status(body.errors[0].message);
      $("open").hidden = false;
      return;
    }
    const items = body.data.dashboards.items;
    $("list").textContent = "";
    items.forEach((dashboard) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/dashboards/" + encodeURIComponent(dashboard.id) + "?project="
        + encodeURIComponent(project) + "#token=" + encodeURIComponent(token);
      link.textContent = dashboard.name;
      item.appendChild(link);
      if (dashboard.description) item.append(" " + dashboard.description);
      $("list").appendChild(item);
    });
    status(items.length ? "project " + project : "project " + project + " has no dashboards");
  }

  $("project").value = project;
  $("open").addEventListener("submit", (event) => {
    event.preventDefault();
    project = $("project").value.trim();
    token = $("token").value.trim();
    history.replaceState(null, "", location.pathname + "?project=" + encodeURIComponent(project));
    list();
  });
  if (project && token) list();
  else {
    $("open").hidden = false;
    status("a project and a token are needed");
  }
})();
