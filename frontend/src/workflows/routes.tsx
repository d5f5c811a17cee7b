// Routes mounted under /o/:slug (owned by the workflows pages). Every page loads on demand.
import type { ComponentType } from 'react';
import type { RouteObject } from 'react-router';

type PageModule = { default: ComponentType };
const page = (load: () => Promise<PageModule>) => () => load().then((m) => ({ Component: m.default }));

export const workflowRoutes: RouteObject[] = [
  { path: 'workflows', lazy: page(() => import('./WorkflowList')) },
  { path: 'workflows/templates', lazy: page(() => import('./Templates')) },
  { path: 'workflows/:workflowId', lazy: page(() => import('./WorkflowBuilder')) },
  { path: 'workflows/:workflowId/executions', lazy: page(() => import('./ExecutionHistory')) },
  { path: 'executions/:executionId', lazy: page(() => import('./ExecutionViewer')) },
  { path: 'secrets', lazy: page(() => import('./Secrets')) },
  { path: 'environment', lazy: page(() => import('./Environment')) },
];
