// Routes of the single-page app. Organisation pages live under /o/:slug; the workflow pages
// come from `workflows/routes.tsx`.
import { useMemo } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { Provider } from 'urql';
import { createClient } from './app/client';
import { workflowRoutes } from './workflows/routes';

export function App() {
  const router = useMemo(
    () =>
      createBrowserRouter([
        { path: '/login', lazy: () => import('./pages/auth/Login').then((m) => ({ Component: m.default })) },
        {
          path: '/',
          lazy: () => import('./pages/shell/Shell').then((m) => ({ Component: m.default })),
          children: [{ path: 'o/:slug', children: [...workflowRoutes] }],
        },
      ]),
    [],
  );
  const client = useMemo(
    () =>
      createClient(() => {
        const back = location.pathname + location.search;
        if (!location.pathname.startsWith('/login')) router.navigate(`/login?next=${encodeURIComponent(back)}`);
      }),
    [router],
  );
  return (
    <Provider value={client}>
      <RouterProvider router={router} />
    </Provider>
  );
}
