// The signed-in user's own settings, under /settings.
import { redirect, type RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const accountRoutes: RouteObject[] = [
  { path: 'settings', loader: () => redirect('/settings/profile') },
  { path: 'settings/profile', lazy: page(() => import('./Profile')) },
  { path: 'settings/security', lazy: page(() => import('./Security')) },
  { path: 'settings/preferences', lazy: page(() => import('./Preferences')) },
];
