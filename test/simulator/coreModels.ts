import type { Route } from './state';

export const coreModelRoutes: Route[] = [];
