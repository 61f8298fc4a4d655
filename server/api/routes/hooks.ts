// `POST /hooks/:repo`: webhook deliveries from forges. No token: a delivery is let in by its
// signature with the repo's webhook secret (server/hooks/verify.ts). It is recorded and
// answered 202 before any git runs; the sync happens after (triggers/hook-trigger.ts).
// `GET /api/repos/:repo/hooks`: the last deliveries, for the repo page and for debugging.
import { Hono } from 'hono';
import { forgeOf, verifyDelivery } from '../../hooks/verify.js';

// The payload schemas (zod) load with the first delivery, not at every start.
let payloads: Promise<typeof import('../../hooks/payloads.js')> | null = null;
import { param, repoNamed, type ApiOptions } from '../http.js';
import { repoParam } from '../../access/index.js';

export function createHookRoutes({ store, service, access: { guard }, logger, metrics }: ApiOptions): Hono {
  const app = new Hono();

  // Open: a delivery proves itself with the repo's webhook secret (HMAC), checked below.
  app.post('/hooks/:repo', guard('open'), async (c) => {
    const headers = Object.fromEntries([...c.req.raw.headers].map(([k, v]) => [k.toLowerCase(), v]));
    const repo = store.repos.getRepoByName(param(c, 'repo'));
    if (!repo) {
      metrics?.webhook(forgeOf(headers), 'unknown_repo');
      return c.json({ error: `no repo ${param(c, 'repo')}` }, 404);
    }
    const body = Buffer.from(await c.req.arrayBuffer());
    const { webhookSecret } = repo.sealed.webhookSecret ? store.repos.getRemoteSettings(repo.id) : { webhookSecret: null };
    const verified = verifyDelivery(headers, body, { secret: webhookSecret, insecure: repo.webhookInsecure });
    if (!verified.ok) {
      logger.warn({ repo: repo.name, error: verified.error }, 'webhook refused');
      metrics?.webhook(forgeOf(headers), 'refused');
      return c.json({ error: verified.error }, verified.status);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      metrics?.webhook(verified.forge, 'bad_payload');
      return c.json({ error: 'the body is not JSON' }, 400);
    }
    const parsed = (await (payloads ??= import('../../hooks/payloads.js'))).parseDelivery(verified.forge, verified.event, json);
    if (!parsed.ok) {
      metrics?.webhook(verified.forge, 'bad_payload');
      return c.json({ error: parsed.error }, 400);
    }
    const recorded = store.hooks.recordDelivery({
      repoId: repo.id, forge: verified.forge, event: verified.event, deliveryId: verified.deliveryId,
      status: parsed.events.length ? 'accepted' : 'ignored', result: parsed.ignored,
    });
    metrics?.webhook(verified.forge, recorded.duplicate ? 'duplicate' : parsed.events.length ? 'accepted' : 'ignored');
    if (recorded.duplicate) return c.json({ status: 'duplicate', delivery: recorded.delivery.id }, 200);
    if (parsed.events.length > 0) service.receiveHook(repo, recorded.delivery.id, parsed.events);
    return c.json({ status: parsed.events.length ? 'accepted' : 'ignored', delivery: recorded.delivery.id }, 202);
  });

  app.get('/api/repos/:repo/hooks', guard('maintain', repoParam), (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    return c.json(store.hooks.listDeliveries(repo.id, limit).map((d) => ({
      id: d.id, forge: d.forge, event: d.event, delivery_id: d.deliveryId, received_at: d.receivedAt,
      status: d.status, result: d.result, run_ids: d.runIds,
    })));
  });
  return app;
}
