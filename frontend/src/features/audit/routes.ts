// The audit log, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const auditRoutes: RouteObject[] = [{ path: 'audit', lazy: page(() => import('./AuditLog')) }];
