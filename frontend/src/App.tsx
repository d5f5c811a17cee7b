// Routes of the single-page app, gathered from the features: the signed-out pages
// (`features/auth`), and the signed-in shell with the account settings and the organisation
// pages under /o/:slug (`features/shell/routes.ts`).
import { useEffect, useMemo, useRef, useState } from 'react';
import { createBrowserRouter, RouterProvider, type RouteObject } from 'react-router';
import { Provider } from 'urql';
import { createClient, type ZygoClient } from './app/client';
import { loadTokens, onTokens } from './app/session';
import { authRoutes, isPublicPath } from './features/auth/routes';
import { sharedRoutes } from './features/resources/routes';
import { shellRoutes } from './features/shell/routes';
import { RouteError, RouteLoading } from './features/shell/RouteStates';

const appRoutes: RouteObject[] = [...authRoutes, ...sharedRoutes, ...shellRoutes];

export const routes: RouteObject[] = [{ HydrateFallback: RouteLoading, ErrorBoundary: RouteError, children: appRoutes }];

export function App() {
  const router = useMemo(() => createBrowserRouter(routes), []);

  // A new client (empty cache, new WebSocket) for every sign-in and sign-out; refreshes keep it.
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    let signedIn = loadTokens() != null;
    return onTokens((t) => {
      if ((t != null) !== signedIn) {
        signedIn = t != null;
        setEpoch((e) => e + 1);
      }
    });
  }, []);

  const client = useMemo(
    () =>
      createClient(() => {
        const back = location.pathname + location.search;
        if (!isPublicPath(location.pathname) && !location.pathname.startsWith('/share/')) router.navigate(`/login?next=${encodeURIComponent(back)}`);
      }),
    [router, epoch],
  );
  // The replaced client's WebSocket closes once the new one is in place (not in an effect
  // cleanup, which StrictMode runs on the live client too).
  const previous = useRef<ZygoClient | null>(null);
  useEffect(() => {
    if (previous.current && previous.current !== client) previous.current.dispose();
    previous.current = client;
  }, [client]);

  return (
    <Provider value={client}>
      <RouterProvider router={router} />
    </Provider>
  );
}
