// `GET /metrics`: the Prometheus exposition (server/metrics/), open or behind the metrics
// token as server/metrics/access.ts decides.
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { refuseScrape } from '../../metrics/access.js';
import { bearerToken, type ApiOptions } from '../http.js';

export function createMetricsRoutes({ scrape }: Required<Pick<ApiOptions, 'scrape'>>): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const refused = refuseScrape(scrape.access, bearerToken(c));
    if (refused) throw new KilnError('unauthorized', refused);
    const { contentType, text } = await scrape.exposition.render();
    return c.text(text, 200, { 'content-type': contentType });
  });
  return app;
}
