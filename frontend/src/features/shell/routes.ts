// The signed-in frame at / (top bar, navigation) and what hangs under it: the dashboard, creating
// an organisation, the account settings and every organisation's pages under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';
import { TenantRoute } from '../../app/tenant';
import { accountRoutes } from '../account/routes';
import { adminRoutes } from '../admin/routes';
import { apiKeyRoutes } from '../api-keys/routes';
import { auditRoutes } from '../audit/routes';
import { billingRoutes } from '../billing/routes';
import { memberRoutes } from '../members/routes';
import { notificationRoutes } from '../notifications/routes';
import { privacyRoutes } from '../privacy/routes';
import { organisationRoutes } from '../organisation/routes';
import { resourceRoutes } from '../resources/routes';
import { roleRoutes } from '../roles/routes';
import { studioRoutes } from '../studio/routes';
import { teamRoutes } from '../teams/routes';
import { webhookRoutes } from '../webhooks/routes';
import { collectionRoutes } from '../collection/routes';
import { infrastructureRoutes } from '../infrastructure/routes';
import { workflowRoutes } from '../workflows/routes';
import { RouteError } from './RouteStates';

/** Pages of one organisation, under /o/:slug. */
export const orgRoutes: RouteObject[] = [
  ...organisationRoutes,
  ...memberRoutes,
  ...teamRoutes,
  ...roleRoutes,
  ...apiKeyRoutes,
  ...auditRoutes,
  ...billingRoutes,
  ...webhookRoutes,
  ...resourceRoutes,
  ...collectionRoutes,
  ...infrastructureRoutes,
  ...workflowRoutes,
  ...studioRoutes,
];

export const shellRoutes: RouteObject[] = [
  {
    path: '/',
    lazy: page(() => import('./Shell')),
    children: [
      { index: true, lazy: page(() => import('./Dashboard')) },
      { path: 'organisations/new', lazy: page(() => import('./CreateOrganisation')) },
      ...accountRoutes,
      ...notificationRoutes,
      ...privacyRoutes,
      ...adminRoutes,
      { path: 'o/:slug', Component: TenantRoute, ErrorBoundary: RouteError, children: orgRoutes },
      { path: '*', lazy: page(() => import('./NotFound')) },
    ],
  },
];
