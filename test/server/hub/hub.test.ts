// The hub over a real WebSocket on port 0, with a real job queue on a real SQLite store: what it
// refuses at the door (token, protocol version, binary or malformed frames) and a replaced connection.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../../../shared/protocol/messages.js';
import { createEventBus } from '../../../server/events.js';
import { createHub, type Hub } from '../../../server/hub/hub.js';
import { createJobQueue } from '../../../server/queue/job-queue.js';
import { newRun, plan, plannedJob, tempStore } from '../store/fixtures.js';

const TOKEN = 'hub-test-agent-token';
const open: Array<{ hub: Hub; http: Server }> = [];
afterEach(async () => {
  for (const { hub, http } of open.splice(0)) {
    await hub.stop();
    await new Promise((resolve) => http.close(resolve));
  }
});

async function startHub() {
  const { store } = tempStore({ now: Date.now, advance: () => 0 });
  const queue = createJobQueue({ store, bus: createEventBus(), logger: pino({ level: 'silent' }), leaseMs: 30_000, logCapBytes: 1 << 20, serverUrl: () => 'http://127.0.0.1:1' });
  const hub = createHub({ queue, logger: pino({ level: 'silent' }), authorize: (t) => t === TOKEN });
  const http = createServer((_, res) => res.end());
  http.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  open.push({ hub, http });
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/agent`;
  return { store, queue, url };
}

interface Peer {
  ws: WebSocket;
  messages: any[];
  next(type: string): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string, token = TOKEN): Promise<Peer> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const messages: any[] = [];
  const waiters: Array<{ type: string; resolve(m: any): void }> = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    messages.push(m);
    for (const w of waiters.filter((x) => x.type === m.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({
      ws, messages, closed,
      next: (type) => {
        const seen = messages.find((m) => m.type === type);
        return seen ? Promise.resolve(seen) : new Promise((r) => waiters.push({ type, resolve: r }));
      },
    }));
    ws.once('unexpected-response', (_, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const hello = (name: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, name, labels: ['linux'], capacity: 1, version: 'test', pool: null, jobs: [], ...over });

describe('the hub', () => {
  it('refuses a wrong agent token before the upgrade', async () => {
    const { url } = await startHub();
    await expect(connect(url, 'wrong')).rejects.toThrow('HTTP 401');
  });

  it('refuses a protocol version it does not speak, and registers nothing', async () => {
    const { url, store } = await startHub();
    const peer = await connect(url);
    peer.ws.send(hello('old', { protocol: PROTOCOL_VERSION - 1 }));
    expect(await peer.closed).toEqual({ code: 4002, reason: `protocol ${PROTOCOL_VERSION - 1} is not supported; this server speaks ${PROTOCOL_VERSION}` });
    expect(store.agents.listAgents()).toEqual([]);
  });

  it('closes a connection whose first frame is not hello', async () => {
    const { url } = await startHub();
    const peer = await connect(url);
    peer.ws.send(JSON.stringify({ type: 'draining' }));
    expect(await peer.closed).toMatchObject({ code: 4003, reason: 'the first message must be hello' });
  });

  it('refuses binary frames: the protocol speaks text', async () => {
    const { url } = await startHub();
    const peer = await connect(url);
    peer.ws.send(Buffer.from(hello('bin')), { binary: true });
    expect(await peer.closed).toEqual({ code: 1003, reason: 'the agent protocol speaks text frames only' });
  });

  it('closes a connection that sends a malformed frame, and keeps the others', async () => {
    const { url } = await startHub();
    const good = await connect(url);
    good.ws.send(hello('good'));
    await good.next('welcome');
    const bad = await connect(url);
    bad.ws.send('{"type":"hello","protocol":');
    expect(await bad.closed).toMatchObject({ code: 1007, reason: 'frame is not JSON' });
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('replaces an older connection of the same agent, and the new one goes on with its job', async () => {
    const { url, store, queue } = await startHub();
    const first = await connect(url);
    first.ws.send(hello('builder'));
    await first.next('welcome');
    const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('build')) }));
    queue.runChanged(run.id);
    const { assignment } = await first.next('job');

    const second = await connect(url);
    second.ws.send(hello('builder', { jobs: [{ jobId: assignment.jobId, attempt: 1, token: assignment.token }] }));
    expect(await second.next('welcome')).toMatchObject({ keep: [assignment.jobId], drop: [] });
    expect(await first.closed).toEqual({ code: 4001, reason: 'replaced by a new connection of the same agent' });
    second.ws.send(JSON.stringify({ type: 'done', jobId: assignment.jobId, token: assignment.token, attempt: 1, status: 'success', exitCode: 0, reason: null, lastSeq: -1, at: Date.now() }));
    await second.next('done-ack');
    expect(store.jobs.getJob(assignment.jobId)!.status).toBe('success');
    expect(store.agents.listAgents().map((a) => [a.name, a.status])).toEqual([['builder', 'idle']]);
  });
});
