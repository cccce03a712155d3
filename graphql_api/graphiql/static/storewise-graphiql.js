// Starts GraphiQL on the Storewise page (graphql_api/graphiql). A file of its own, not an inline
// script, so the page's Content-Security-Policy can say script-src 'self'.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("storewise-graphiql-config").textContent);
  var url = window.location.href.split(/[?#]/)[0];
  var subscriptionUrl = url.replace(/^http/, "ws");
  var base = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl });

  // The Headers editor starts with "Bearer <token>": that placeholder is not sent (the server
  // would refuse it), so the examples that need no token run as they are.
  function withoutPlaceholder(headers) {
    var kept = {};
    Object.keys(headers || {}).forEach(function (name) {
      var value = headers[name];
      if (!(name.toLowerCase() === "authorization" && String(value).indexOf("<token>") !== -1)) {
        kept[name] = value;
      }
    });
    return kept;
  }

  function fetcher(params, options) {
    var opts = Object.assign({}, options || {});
    opts.headers = withoutPlaceholder(opts.headers);
    return base(params, opts);
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    })
  );
})();
