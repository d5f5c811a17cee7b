// The platform operators' pages, under /admin (reachable for holders of a platform role; the
// API refuses everyone else).
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const adminRoutes: RouteObject[] = [
  { path: 'admin', lazy: page(() => import('./Admin')) },
  { path: 'admin/flags', lazy: page(() => import('./FeatureFlags')) },
  { path: 'admin/support', lazy: page(() => import('./SupportSessions')) },
  { path: 'admin/collection', lazy: page(() => import('./CollectionCatalog')) },
];
