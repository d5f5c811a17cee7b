// Routes of the single-page app. Organisation pages live under /o/:slug; the workflow pages
// come from `workflows/routes.tsx`.
import { useEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import { createBrowserRouter, redirect, RouterProvider, type RouteObject } from 'react-router';
import { Provider } from 'urql';
import { createClient, type ZygoClient } from './app/client';
import { loadTokens, onTokens } from './app/session';
import { TenantRoute } from './app/tenant';
import { workflowRoutes } from './workflows/routes';
import { RouteError, RouteLoading } from './pages/shell/RouteStates';

type PageModule = { default: ComponentType };
const page = (load: () => Promise<PageModule>) => () => load().then((m) => ({ Component: m.default }));

/** Pages of one organisation, under /o/:slug. */
const orgRoutes: RouteObject[] = [
  { index: true, lazy: page(() => import('./pages/org/Overview')) },
  { path: 'settings', lazy: page(() => import('./pages/org/GeneralSettings')) },
  { path: 'members', lazy: page(() => import('./pages/org/Members')) },
  { path: 'teams', lazy: page(() => import('./pages/org/Teams')) },
  { path: 'roles', lazy: page(() => import('./pages/org/Roles')) },
  { path: 'roles/new', lazy: page(() => import('./pages/org/RoleCreate')) },
  { path: 'roles/:roleKey', lazy: page(() => import('./pages/org/RoleDetail')) },
  { path: 'api-keys', lazy: page(() => import('./pages/org/ApiKeys')) },
  { path: 'audit', lazy: page(() => import('./pages/org/AuditLog')) },
  { path: 'billing', lazy: page(() => import('./features/billing/Billing')) },
];

const appRoutes: RouteObject[] = [
  { path: '/login', lazy: page(() => import('./pages/auth/Login')) },
  { path: '/signup', lazy: page(() => import('./pages/auth/Signup')) },
  { path: '/verify-email', lazy: page(() => import('./pages/auth/VerifyEmail')) },
  { path: '/forgot-password', lazy: page(() => import('./pages/auth/ForgotPassword')) },
  { path: '/reset-password', lazy: page(() => import('./pages/auth/ResetPassword')) },
  { path: '/unlock-account', lazy: page(() => import('./pages/auth/UnlockAccount')) },
  { path: '/oauth/callback', lazy: page(() => import('./pages/auth/OAuthCallback')) },
  { path: '/invitations/accept', lazy: page(() => import('./pages/auth/AcceptInvitation')) },
  {
    path: '/',
    lazy: page(() => import('./pages/shell/Shell')),
    children: [
      { index: true, lazy: page(() => import('./pages/shell/Dashboard')) },
      { path: 'organisations/new', lazy: page(() => import('./pages/shell/CreateOrganisation')) },
      { path: 'settings', loader: () => redirect('/settings/profile') },
      { path: 'settings/profile', lazy: page(() => import('./pages/settings/Profile')) },
      { path: 'settings/security', lazy: page(() => import('./pages/settings/Security')) },
      { path: 'settings/preferences', lazy: page(() => import('./pages/settings/Preferences')) },
      { path: 'o/:slug', Component: TenantRoute, ErrorBoundary: RouteError, children: [...orgRoutes, ...workflowRoutes] },
      { path: '*', lazy: page(() => import('./pages/shell/NotFound')) },
    ],
  },
];

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
        if (!isPublicPath(location.pathname)) router.navigate(`/login?next=${encodeURIComponent(back)}`);
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

const PUBLIC = ['/login', '/signup', '/verify-email', '/forgot-password', '/reset-password', '/unlock-account', '/oauth/callback', '/invitations/accept'];
export function isPublicPath(path: string) {
  return PUBLIC.some((p) => path === p || path.startsWith(p + '/'));
}
