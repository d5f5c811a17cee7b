// A route's page, loaded on demand: `{ lazy: page(() => import('./Page')) }` takes the module's
// default export as the route's component. Every feature's routes use it.
import type { ComponentType } from 'react';

type PageModule = { default: ComponentType };

export const page = (load: () => Promise<PageModule>) => () => load().then((m) => ({ Component: m.default }));
