// Data collection, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const collectionRoutes: RouteObject[] = [{ path: 'collection', lazy: page(() => import('./Collection')) }];
