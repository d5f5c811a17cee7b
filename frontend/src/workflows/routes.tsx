import type { RouteObject } from 'react-router';

/** Routes mounted under /o/:slug (owned by the workflows pages). */
export const workflowRoutes: RouteObject[] = [];
