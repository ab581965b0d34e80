// GraphiQL as Vigil serves it (infra/web/pages.py): queries and mutations over HTTP,
// subscriptions over graphql-transport-ws. Browsers cannot set headers on a websocket, so the
// Headers tab also goes in the `connection_init` payload, where Vigil reads the token.
(function () {
  "use strict";
  const EXAMPLE = `# Vigil's GraphiQL
#
# 1. Get a token in a shell: vigil token --subject you --project demo --role admin
#    (.venv/bin/vigil in a checkout)
# 2. Put {"Authorization": "Bearer <token>"} in Headers (below), then run (Ctrl-Enter).
#
# Subscriptions stream here too, e.g.
#   subscription { metricCollected(project: "demo") { name value tags timestamp } }

query {
  metricNames(project: "demo")
}
`;
  const HEADERS = '{\n  "Authorization": "Bearer <token>"\n}';
  const httpUrl = location.origin + "/graphql";
  const wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";

  // One websocket client per set of headers: new headers (another token) mean a new
  // connection_init, so the socket of the old ones is closed.
  let client = null;
  let clientHeaders = null;

  function wsClientFor(headers) {
    const key = JSON.stringify(headers);
    if (client === null || key !== clientHeaders) {
      if (client !== null) client.dispose();
      client = graphqlWs.createClient({
        url: wsUrl,
        connectionParams: headers,
        // Vigil closes with 4403 and the reason when it refuses the token; retrying cannot
        // help, and graphql-ws would retry for ~40 s before saying anything.
        shouldRetry: (event) => !(event && event.code === 4403),
      });
      clientHeaders = key;
    }
    return client;
  }

  function fetcher(params, options) {
    const given = Object.assign({}, options);
    // GraphiQL parses the editor a moment after typing stops, and picks the websocket by
    // that document: run at once after a paste, a subscription would go over HTTP.
    try {
      given.documentAST = GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      // not a document: the server answers the syntax error
    }
    const wsClient = wsClientFor(given.headers || {});
    return GraphiQL.createFetcher({ url: httpUrl, wsClient: wsClient })(params, given);
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultQuery: EXAMPLE,
      defaultHeaders: HEADERS,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    })
  );
})();
