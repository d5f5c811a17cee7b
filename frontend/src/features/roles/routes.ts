// Roles and their permissions, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const roleRoutes: RouteObject[] = [
  { path: 'roles', lazy: page(() => import('./Roles')) },
  { path: 'roles/new', lazy: page(() => import('./RoleCreate')) },
  { path: 'roles/:roleKey', lazy: page(() => import('./RoleDetail')) },
];
