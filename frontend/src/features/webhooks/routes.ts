// Outbound webhooks, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const webhookRoutes: RouteObject[] = [{ path: 'webhooks', lazy: page(() => import('./Webhooks')) }];
