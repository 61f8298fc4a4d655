// `GET /metrics`: the Prometheus exposition (server/metrics/), open or behind the metrics
// token as server/metrics/access.ts decides.
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { refuseScrape } from '../../metrics/access.js';
import { bearerToken, type ApiOptions } from '../http.js';

export function createMetricsRoutes({ scrape, access }: Required<Pick<ApiOptions, 'scrape' | 'access'>>): Hono {
  const app = new Hono();
  // Declared open: the scrape check below is its own (a metrics token, or the admin on a private server).
  app.get('/metrics', access.guard('open'), async (c) => {
    const refused = refuseScrape(scrape.access, bearerToken(c));
    if (refused) throw new KilnError('unauthorized', refused);
    const { contentType, text } = await scrape.exposition.render();
    return c.text(text, 200, { 'content-type': contentType });
  });
  return app;
}
