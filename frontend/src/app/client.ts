// One urql client for the whole app: normalized cache (graphcache), bearer auth with silent
// refresh, and subscriptions over graphql-ws on /graphql/ws.
//
// App.tsx creates a new client (fresh cache, fresh WebSocket) whenever somebody signs in or out;
// token refreshes keep the client and hand the new access token to the open WebSocket with a
// graphql-transport-ws `ping` (the server closes a socket whose token expired).
import { Client, fetchExchange, subscriptionExchange, mapExchange, type CombinedError } from 'urql';
import { cacheExchange } from '@urql/exchange-graphcache';
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient } from 'graphql-ws';
import { expiresSoon, loadTokens, onTokens, refreshTokens, saveTokens } from './session';

export function errorCode(e: { graphQLErrors?: { extensions?: Record<string, unknown> }[] } | undefined) {
  return e?.graphQLErrors?.[0]?.extensions?.code as string | undefined;
}

function messageOf(g: { message: string; extensions?: Record<string, unknown> }): string {
  if (g.extensions?.code === 'RATE_LIMITED') {
    const after = g.extensions?.retryAfter;
    return `Too many attempts. Try again${after ? ` in ${after} s` : ' later'}.`;
  }
  return g.message.charAt(0).toUpperCase() + g.message.slice(1);
}

/** A human-readable message for a failed operation (first GraphQL error, else the network error). */
export function errorMessage(e: CombinedError | undefined | null): string | undefined {
  if (!e) return undefined;
  const g = e.graphQLErrors?.[0];
  if (g) return messageOf(g);
  if (e.networkError) return 'The server cannot be reached. Check your connection and try again.';
  return e.message;
}

/**
 * Field errors of a failed operation, keyed by `extensions.field` (BAD_USER_INPUT, and CONFLICT
 * naming a field) and by its last path segment as well, so `input.general.website` is found as
 * `website`. The message loses its `input.general.website: ` prefix. Errors without a field are
 * under `''`.
 */
export function fieldErrors(e: CombinedError | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of e?.graphQLErrors ?? []) {
    const field = g.extensions?.field as string | undefined;
    if (field) {
      const message = g.message.startsWith(`${field}: `) ? g.message.slice(field.length + 2) : g.message;
      const text = message.charAt(0).toUpperCase() + message.slice(1);
      out[field] ??= text;
      const last = field.split('.').pop()!;
      out[last] ??= text;
    } else {
      out[''] ??= messageOf(g);
    }
  }
  if (e && !e.graphQLErrors?.length) out[''] = errorMessage(e) ?? 'Something went wrong.';
  return out;
}

/** Types whose `id` is only unique inside their parent (a workflow's node and edge keys). */
const LOCAL_IDS = new Set(['WorkflowGraphNode', 'WorkflowGraphEdge']);

// Every type with a globally unique `id` is normalised by it; anything else is embedded in its
// parent (answering null explicitly keeps graphcache from warning about missing keys).
const keys = new Proxy({} as Record<string, (data: Record<string, unknown>) => string | null>, {
  get: (_target, typename) =>
    typeof typename === 'string' && LOCAL_IDS.has(typename)
      ? () => null
      : (data: Record<string, unknown>) => (data.id != null ? String(data.id) : null),
});

export interface ZygoClient extends Client {
  /** Closes the client's WebSocket and stops listening for token changes. */
  dispose(): void;
  /**
   * Runs one operation on the client's WebSocket — the socket its subscriptions use — instead
   * of over HTTP: a light message the server ties to that socket's subscriptions (presence).
   */
  overSocket(query: string, variables: Record<string, unknown>): Promise<{ errors?: readonly { message: string }[] }>;
}

export function createClient(onSessionEnded: () => void): ZygoClient {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
  let socket: WebSocket | null = null;
  const ws = createWsClient({
    url: wsUrl,
    lazy: true,
    retryAttempts: 5,
    connectionParams: async () => {
      let t = loadTokens();
      if (t && expiresSoon(t)) t = await refreshTokens();
      return t ? { Authorization: `Bearer ${t.accessToken}` } : {};
    },
    on: {
      connected: (s) => {
        socket = s as WebSocket;
      },
      closed: () => {
        socket = null;
      },
    },
  });
  // A refreshed access token goes to the open socket, so it is not closed when the old one expires.
  const stopListening = onTokens((t) => {
    if (t && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'ping', payload: { accessToken: t.accessToken } }));
    }
  });

  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    // `application/json` keeps every executed operation a 200: with `application/graphql-response+json`
    // zygo answers 400 when a mutation fails as a whole (e.g. a wrong password), which browsers log
    // as a failed resource load; the errors themselves are in the body either way.
    fetchOptions: { headers: { accept: 'application/json' } },
    exchanges: [
      cacheExchange({ keys }),
      mapExchange({
        onError(error) {
          if (errorCode(error) === 'UNAUTHENTICATED' && loadTokens() == null) onSessionEnded();
        },
      }),
      authExchange(async (utils) => {
        let tokens = loadTokens();
        return {
          addAuthToOperation(operation) {
            tokens = loadTokens();
            return tokens
              ? utils.appendHeaders(operation, { Authorization: `Bearer ${tokens.accessToken}` })
              : operation;
          },
          willAuthError() {
            tokens = loadTokens();
            return tokens != null && expiresSoon(tokens);
          },
          didAuthError(error) {
            return errorCode(error) === 'UNAUTHENTICATED' && loadTokens() != null;
          },
          async refreshAuth() {
            const next = await refreshTokens();
            if (!next) {
              saveTokens(null);
              onSessionEnded();
            }
          },
        };
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  }) as ZygoClient;
  client.overSocket = (query, variables) =>
    new Promise((resolve) => {
      let result: { errors?: readonly { message: string }[] } = {};
      ws.subscribe(
        { query, variables },
        {
          next: (r) => {
            result = r as typeof result;
          },
          error: (e) => resolve({ errors: [{ message: String((e as Error)?.message ?? e) }] }),
          complete: () => resolve(result),
        },
      );
    });
  client.dispose = () => {
    stopListening();
    void ws.dispose();
  };
  return client;
}
