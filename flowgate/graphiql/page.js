// Flowgate's GraphiQL page (flowgate/graphiql/page.html), a file of its own rather than an
// inline script: the page's Content-Security-Policy runs scripts from files only.
(function () {
  "use strict";

  const TABS = JSON.parse(document.getElementById("flowgate-tabs").textContent);
  const CREDENTIAL = "flowgate:authorization";

  const url = window.location.href.split(/[?#]/)[0];
  const subscriptionUrl = url.replace(/^http/, "ws");

  // The pasted credential lives in sessionStorage: it survives a reload of the tab and ends
  // with it. localStorage would keep it on disk for every later user of this browser
  // profile and hand it to any script on the origin, forever.
  //
  // GraphiQL's own state stays in localStorage (tabs and history outlive the browser tab),
  // minus headers: `shouldPersistHeaders: false` below keeps them out of the tabs, but
  // GraphiQL 3.8 stores every run's headers in its history (and favorites) regardless.
  const WITH_HEADERS = /^graphiql:(queries|favorites|tabState)$/;
  function withoutHeaders(value) {
    try {
      return JSON.stringify(JSON.parse(value), (key, item) => (key === "headers" ? null : item));
    } catch {
      return value;
    }
  }
  const ours = () => Object.keys(localStorage).filter((key) => key.startsWith("graphiql:"));
  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem: (key, value) =>
      localStorage.setItem(key, WITH_HEADERS.test(key) ? withoutHeaders(value) : value),
    removeItem: (key) => localStorage.removeItem(key),
    clear: () => ours().forEach((key) => localStorage.removeItem(key)),
    get length() {
      return ours().length;
    },
  };
  // What earlier versions of this page left there: the credential, GraphiQL's headers, and
  // headers in its history and tabs; removed before GraphiQL reads them.
  localStorage.removeItem(CREDENTIAL);
  localStorage.removeItem("graphiql:headers");
  for (const key of ours().filter((key) => WITH_HEADERS.test(key))) {
    storage.setItem(key, localStorage.getItem(key));
  }

  // One paste signs in every tab: the last Authorization typed in any tab is sent with
  // operations whose own tab has none.
  function withCredential(headers) {
    const own = headers && (headers.Authorization || headers.authorization);
    if (own) {
      sessionStorage.setItem(CREDENTIAL, own);
      return headers;
    }
    const remembered = sessionStorage.getItem(CREDENTIAL);
    return remembered ? { ...headers, Authorization: remembered } : headers;
  }

  // GraphiQL 3.8 can send the operation name of the tab that ran before (a tab from
  // `defaultTabs` has none until it is edited): the server then finds no such operation,
  // and a subscription is not recognised as one and goes over HTTP. A document with one
  // operation names it itself.
  function withOperationName(params, documentAST) {
    const operations = (documentAST ? documentAST.definitions : []).filter(
      (definition) => definition.kind === "OperationDefinition",
    );
    if (operations.length !== 1) return params;
    const name = operations[0].name ? operations[0].name.value : undefined;
    return { ...params, operationName: name };
  }

  function fetcher(params, options) {
    const headers = withCredential(options && options.headers);
    // A websocket client per operation, as GraphiQL's own fetcher makes one: lazy, it opens
    // a socket only for a subscription and closes it when that ends. Its connection_init
    // carries the operation's headers, which is where Flowgate reads a socket's credential.
    const wsClient = graphqlWs.createClient({
      url: subscriptionUrl,
      connectionParams: headers,
      lazy: true,
    });
    const run = GraphiQL.createFetcher({ url, wsClient });
    return run(withOperationName(params, options && options.documentAST), {
      ...options,
      headers,
    });
  }

  // A shared link (?query=...) opens in a tab of its own; otherwise GraphiQL selects the
  // first example's tab, kept from an earlier visit or new.
  const shared = new URLSearchParams(window.location.search).get("query");

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      storage,
      defaultTabs: shared ? [{ query: shared }, ...TABS] : TABS,
      query: shared || TABS[0].query,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // Not persisted: GraphiQL would keep every tab's headers, the credential among them,
      // in localStorage (and, told so, removes what an earlier visit stored there).
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
