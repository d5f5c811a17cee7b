// Billing, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const billingRoutes: RouteObject[] = [{ path: 'billing', lazy: page(() => import('./Billing')) }];
