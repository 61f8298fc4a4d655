// Where a request came from, for the audit log: the socket's peer address, or the first hop of
// X-Forwarded-For when the peer is one of `server.trusted_proxies` (a reverse proxy in front).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

export function addressOf(trustedProxies: readonly string[]): (c: Context) => string {
  const trusted = new Set(trustedProxies);
  return (c) => {
    let peer = '';
    try {
      peer = (getConnInfo(c).remote.address ?? '').replace(/^::ffff:(?=\d+\.)/, '');
    } catch {
      // Not served by the Node adapter (app.request() in tests): no socket to ask.
    }
    if (!trusted.has(peer)) return peer;
    const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    return first || peer;
  };
}
