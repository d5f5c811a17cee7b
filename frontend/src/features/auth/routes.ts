// Pages reached signed out: sign-up, log-in and the links sent by mail.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const authRoutes: RouteObject[] = [
  { path: '/login', lazy: page(() => import('./Login')) },
  { path: '/signup', lazy: page(() => import('./Signup')) },
  { path: '/verify-email', lazy: page(() => import('./VerifyEmail')) },
  { path: '/forgot-password', lazy: page(() => import('./ForgotPassword')) },
  { path: '/reset-password', lazy: page(() => import('./ResetPassword')) },
  { path: '/unlock-account', lazy: page(() => import('./UnlockAccount')) },
  { path: '/oauth/callback', lazy: page(() => import('./OAuthCallback')) },
  { path: '/invitations/accept', lazy: page(() => import('./AcceptInvitation')) },
];

const PUBLIC = authRoutes.map((r) => r.path!);
/** Whether `path` is one of the pages above, which never send to the login page. */
export function isPublicPath(path: string) {
  return PUBLIC.some((p) => path === p || path.startsWith(p + '/'));
}
