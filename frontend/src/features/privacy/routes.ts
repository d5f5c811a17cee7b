// The signed-in person's privacy page: data export and account deletion.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const privacyRoutes: RouteObject[] = [{ path: 'settings/privacy', lazy: page(() => import('./Privacy')) }];
