//! `GET /graphiql`: the GraphiQL explorer, wired for queries, mutations and subscriptions.
//!
//! The access token goes in GraphiQL's *Headers* pane as
//! `{"Authorization": "Bearer …"}`. HTTP requests send it as a header; the WebSocket
//! reads the same pane on connect and sends it in the `connection_init` payload, so
//! subscriptions are authenticated too.

use axum::response::Html;

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Zygo GraphiQL</title>
  <style>body { margin: 0; height: 100vh; overflow: hidden; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css" />
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    const wsUrl = new URL('/graphql/ws', window.location.href);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    // Read the Headers pane at connect time so subscriptions carry the same token.
    // GraphiQL keeps the active tab's headers under `graphiql:headers` and every tab's in
    // `graphiql:tabState`; take the active tab's.
    const paneHeaders = () => {
      try {
        const tabs = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
        const active = tabs && tabs.tabs && tabs.tabs[tabs.activeTabIndex];
        return JSON.parse((active && active.headers) || localStorage.getItem('graphiql:headers') || '{}');
      } catch (_) { return {}; }
    };
    const connectionParams = () => {
      const headers = paneHeaders();
      const auth = headers.Authorization || headers.authorization;
      return auth ? { Authorization: auth } : {};
    };
    const fetcher = GraphiQL.createFetcher({
      url: new URL('/graphql', window.location.href).toString(),
      subscriptionUrl: wsUrl.toString(),
      wsConnectionParams: connectionParams,
    });
    const defaultQuery = `# Welcome to Zygo. Sign up, verify the e-mail (the link is in the mail file
# under the data directory), log in, then put the access token in the Headers pane:
#   {"Authorization": "Bearer <accessToken>"}

mutation SignUp {
  signUp(input: { email: "ada@example.com", password: "correct horse battery", name: "Ada" }) {
    user { id email emailVerified }
  }
}

mutation LogIn {
  logIn(input: { email: "ada@example.com", password: "correct horse battery" }) {
    accessToken refreshToken viewer { name }
  }
}

query Me {
  viewer { name email emailVerified tenants(first: 10) { totalCount edges { node { id name slug } } } }
}
`;
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true, shouldPersistHeaders: true })
    );
  </script>
</body>
</html>
"#;

/// GraphiQL's own scripts and styles come from unpkg; nothing else may load.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
    style-src 'self' 'unsafe-inline' https://unpkg.com; font-src 'self' data: https://unpkg.com; \
    img-src 'self' data: https://graphql.org https://unpkg.com; connect-src 'self' ws: wss:; frame-ancestors 'none'";

pub async fn page() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_SECURITY_POLICY, CSP)], Html(PAGE))
}
