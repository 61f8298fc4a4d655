// Where a change came from, over a real socket: the peer's address, and X-Forwarded-For's first
// hop only when the peer is a trusted proxy (a forged header from anyone else is ignored).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { addressOf } from '../../../server/audit/address.js';

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

async function addressServer(trusted: string[]): Promise<string> {
  const app = new Hono();
  const address = addressOf(trusted);
  app.get('/', (c) => c.text(address(c)));
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  closers.push(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('the audit address', () => {
  it('is the peer unless the peer is a trusted proxy', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' };
    const open = await addressServer([]);
    expect(await (await fetch(open, { headers })).text()).toBe('127.0.0.1');
    const proxied = await addressServer(['127.0.0.1']);
    expect(await (await fetch(proxied, { headers })).text()).toBe('203.0.113.7');
    expect(await (await fetch(proxied)).text()).toBe('127.0.0.1');
  });
});
