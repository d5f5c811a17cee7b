// Teams, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const teamRoutes: RouteObject[] = [{ path: 'teams', lazy: page(() => import('./Teams')) }];
