// Turning a Page into an answer: the full frame, or with `?partial=1` only <main>'s content
// (which assets/live.js swaps in), with the headers every dashboard page carries.
import type { Context } from 'hono';
import { raw } from 'hono/html';
import { Layout, type Viewer } from './layout.js';
import type { Page } from './pages/page.js';

export type Render = (c: Context, page: Page) => Response | Promise<Response>;

export function createRender(viewerOf: (c: Context) => Viewer): Render {
  return (c, page) => {
    c.header('cache-control', 'no-store');
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'same-origin');
    c.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'");
    const status = page.status ?? 200;
    if (c.req.query('partial') === '1') return c.html(<>{page.body}</>, status);
    return c.html(
      <>
        {raw('<!doctype html>')}
        <Layout title={page.title} viewer={viewerOf(c)} {...(page.live ? { live: page.live } : {})} {...(page.data ? { data: page.data } : {})}>
          {page.body}
        </Layout>
      </>,
      status,
    );
  };
}

export const forbiddenPage = (why: string): Page => ({ title: 'Forbidden', status: 403, body: <><h1>Forbidden</h1><p>{why}</p></> });

export const notFoundPage = (what: string): Page => ({ title: 'Not found', status: 404, body: <><h1>Not found</h1><p>{what}</p></> });

/** A path parameter as a positive integer, or null. */
export function positiveId(value: string | undefined): number | null {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
