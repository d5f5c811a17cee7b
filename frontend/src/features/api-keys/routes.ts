// API keys, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const apiKeyRoutes: RouteObject[] = [{ path: 'api-keys', lazy: page(() => import('./ApiKeys')) }];
