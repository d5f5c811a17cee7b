// The GraphiQL explorer served at /graphiql: bundled from the npm `graphiql` package by the
// web app's own build (a second Vite entry, graphiql.html), so it loads nothing from another
// origin and runs under the app's strict content-security policy.
//
// The access token goes in the Headers pane as {"Authorization": "Bearer …"}: queries send
// it as a header, and the WebSocket reads the same pane on connect and sends it in the
// `connection_init` payload, so subscriptions are authenticated too.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';
import './graphiql.css';

/** An endpoint declared by the page (graphiql.html), resolved against this origin. */
function endpoint(name: string, fallback: string): URL {
  const declared = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
  return new URL(declared || fallback, window.location.href);
}

const httpUrl = endpoint('graphql-endpoint', '/graphql').toString();
const wsUrl = endpoint('graphql-ws-endpoint', '/graphql/ws');
wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';

/** The Headers pane of the active tab (GraphiQL keeps every tab's in `graphiql:tabState`). */
function paneHeaders(): Record<string, string> {
  try {
    const tabs = JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null');
    const active = tabs?.tabs?.[tabs.activeTabIndex];
    return JSON.parse(active?.headers || localStorage.getItem('graphiql:headers') || '{}');
  } catch {
    return {};
  }
}

// Read at connect time, so a token pasted after the page loaded is used.
const wsClient = createClient({
  url: wsUrl.toString(),
  connectionParams: () => {
    const headers = paneHeaders();
    const auth = headers.Authorization ?? headers.authorization;
    return auth ? { Authorization: auth } : {};
  },
  lazy: true,
});

const fetcher = createGraphiQLFetcher({ url: httpUrl, wsClient });

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
    tokens { accessToken refreshToken }
  }
}

query Me {
  viewer { name email emailVerified tenants(first: 10) { totalCount edges { node { id name slug } } } }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} defaultEditorToolsVisibility shouldPersistHeaders />
  </StrictMode>,
);
