// `GET /assets/:name`: the dashboard's static files, open on a private server too. Built-in
// assets are strings in TypeScript modules (assets/index.ts); plain `.js`/`.css` files (the
// log viewer's ES modules) are served as they are from the source folder, with no build step.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { packageRoot } from '../../../shared/package-root.js';
import { ASSETS } from '../assets/index.js';

/**
 * Neither tsc nor the bundle copies plain files: they are read from the source folder,
 * server/dashboard/assets under the package's root (the nearest folder up with a package.json,
 * whether this module runs from the source, from dist/ or from dist/bundle/).
 */
const SOURCE_ASSETS = join(packageRoot(import.meta.url), 'server', 'dashboard', 'assets');
/** Flat names only (no folders, no dots but the extension): an ES module imports its siblings as `./log-viewer-ansi.js`. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/;
const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

export function createAssetRoutes(): Hono {
  const app = new Hono();
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const builtIn = ASSETS[name];
    if (builtIn) return c.body(builtIn.body, 200, { 'content-type': builtIn.type, 'cache-control': 'no-cache' });
    if (!ASSET_NAME.test(name)) return c.text('not found', 404);
    const file = join(SOURCE_ASSETS, name);
    if (existsSync(file)) return c.body(readFileSync(file, 'utf8'), 200, { 'content-type': ASSET_TYPES[name.split('.').pop()!]!, 'cache-control': 'no-cache' });
    return c.text('not found', 404);
  });
  // Browsers ask for /favicon.ico on their own (a feed reader, a bookmark): the same icon.
  app.get('/favicon.ico', (c) => c.body(ASSETS['favicon.svg']!.body, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' }));
  return app;
}
