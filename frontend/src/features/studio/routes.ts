// The studio's documents, under /o/:slug: the list and the collaborative editor.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const studioRoutes: RouteObject[] = [
  { path: 'documents', lazy: page(() => import('./Documents')) },
  { path: 'documents/:id', lazy: page(() => import('./Editor')) },
];
