// The signed-in person's notification centre and notification settings.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const notificationRoutes: RouteObject[] = [
  { path: 'notifications', lazy: page(() => import('./NotificationCentre')) },
  { path: 'settings/notifications', lazy: page(() => import('./NotificationSettings')) },
];
