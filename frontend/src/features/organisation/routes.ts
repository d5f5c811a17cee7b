// An organisation's overview and general settings, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const organisationRoutes: RouteObject[] = [
  { index: true, lazy: page(() => import('./Overview')) },
  { path: 'settings', lazy: page(() => import('./GeneralSettings')) },
  { path: 'domains', lazy: page(() => import('./Domains')) },
  { path: 'settings/support', lazy: page(() => import('./SupportAccess')) },
];
