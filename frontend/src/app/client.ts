// One urql client for the whole app: normalized cache (graphcache), bearer auth with silent
// refresh, and subscriptions over graphql-ws on /graphql/ws.
import { Client, fetchExchange, subscriptionExchange, mapExchange } from 'urql';
import { cacheExchange } from '@urql/exchange-graphcache';
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient } from 'graphql-ws';
import { expiresSoon, loadTokens, refreshTokens, saveTokens } from './session';

export function errorCode(e: { graphQLErrors?: { extensions?: Record<string, unknown> }[] } | undefined) {
  return e?.graphQLErrors?.[0]?.extensions?.code as string | undefined;
}

export function createClient(onSessionEnded: () => void): Client {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
  const ws = createWsClient({
    url: wsUrl,
    lazy: true,
    retryAttempts: 5,
    connectionParams: async () => {
      let t = loadTokens();
      if (t && expiresSoon(t)) t = await refreshTokens();
      return t ? { Authorization: `Bearer ${t.accessToken}` } : {};
    },
  });

  return new Client({
    url: '/graphql',
    preferGetMethod: false,
    fetchOptions: { headers: { accept: 'application/graphql-response+json, application/json' } },
    exchanges: [
      cacheExchange({
        keys: {
          // Types without an id of their own are embedded in their parent.
          PageInfo: () => null,
          AuthTokens: () => null,
          PermissionInfo: () => null,
        },
      }),
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
  });
}
