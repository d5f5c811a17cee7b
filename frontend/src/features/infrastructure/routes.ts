// Infrastructure (cloud provider accounts, servers, volumes, DNS), under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const infrastructureRoutes: RouteObject[] = [
  { path: 'infrastructure', lazy: page(() => import('./Infrastructure')) },
];
