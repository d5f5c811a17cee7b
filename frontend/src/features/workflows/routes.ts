// Workflows, their runs, secrets and environment variables, under /o/:slug.
import type { RouteObject } from 'react-router';
import { page } from '../../app/lazyPage';

export const workflowRoutes: RouteObject[] = [
  { path: 'workflows', lazy: page(() => import('./WorkflowList')) },
  { path: 'workflows/templates', lazy: page(() => import('./Templates')) },
  { path: 'workflows/:workflowId', lazy: page(() => import('./builder/WorkflowBuilder')) },
  { path: 'workflows/:workflowId/executions', lazy: page(() => import('./ExecutionHistory')) },
  { path: 'executions/:executionId', lazy: page(() => import('./ExecutionViewer')) },
  { path: 'secrets', lazy: page(() => import('./Secrets')) },
  { path: 'environment', lazy: page(() => import('./Environment')) },
];
