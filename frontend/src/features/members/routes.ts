// Members and invitations, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const memberRoutes: RouteObject[] = [{ path: 'members', lazy: page(() => import('./Members')) }];
