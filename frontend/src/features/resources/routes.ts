// Resources (files), under /o/:slug; and the public page a share link opens, at /share/:token.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const resourceRoutes: RouteObject[] = [
  { path: 'resources', lazy: page(() => import('./Resources')) },
  { path: 'resources/:id', lazy: page(() => import('./ResourceDetail')) },
];

/** Reached signed out too: whoever holds a share link. */
export const sharedRoutes: RouteObject[] = [{ path: '/share/:token', lazy: page(() => import('./SharedFile')) }];
