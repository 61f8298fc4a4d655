// How an agent ends: SIGTERM with the server gone (results kept in the spool, delivered at the
// next start), orphaned pool agents, and jobs with timeouts longer than Node's timers allow.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { plannedJob, plannedStep } from '../../helpers/plan.js';
import { useAgentFixture, TOKEN } from './fixture.js';
import { assignment, linesOf, startPeer, type Peer } from './peer.js';

const fx = useAgentFixture();
const isDone = (m: { type: string }) => m.type === 'done';
const DAY_MS = 86_400_000;

/** Rejects when `promise` takes longer than `ms`: "exits promptly" as an assertion. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    void promise.then((value) => { clearTimeout(timer); resolve(value); });
  });
}

/** A port of 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kiln agent: ending with the server gone', () => {
  it('SIGTERM while the server is gone: the job finishes, the agent exits 0 with its results spooled, and its next start delivers them once', async () => {
    const peers: Peer[] = [await startPeer({ token: TOKEN, mirrors: fx.mirrors })];
    try {
      const port = Number(new URL(peers[0]!.url).port);
      const agent = await fx.agent(['--no-docker'], { server: peers[0]!.url });
      const first = await peers[0]!.nextConnection();
      first.autoAck = false; // nothing the first server saw counts as delivered
      await first.hello;
      first.send({ type: 'job', assignment: assignment(41, fx.sha, [plannedStep('echo before; sleep 0.5; echo after')]) });
      await first.waitFor((m) => m.type === 'log' && m.lines.some((l) => l.text === 'before'));
      await peers[0]!.close(); // the server goes away mid-job
      agent.child.kill('SIGTERM');
      expect(await within(agent.exited, 15_000, 'the agent exit')).toEqual({ code: 0, signal: null });
      const exit = agent.logs().find((l) => l.msg.includes('wait in the spool for the next start'));
      expect(exit).toMatchObject({ spooled: 1 });

      peers.push(await startPeer({ token: TOKEN, mirrors: fx.mirrors, port }));
      const again = await fx.agent(['--no-docker'], { server: peers[1]!.url, workDir: agent.workDir });
      const second = await peers[1]!.nextConnection();
      expect((await second.hello).jobs).toEqual([{ jobId: 41, attempt: 1, token: assignment(41, fx.sha, []).token }]);
      expect(await second.waitFor(isDone)).toMatchObject({ jobId: 41, status: 'success', exitCode: 0 });
      const logs = second.logs();
      expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i)); // every chunk once, in order
      const lines = linesOf(logs);
      expect(lines.filter((l) => l === 'before' || l === 'after')).toEqual(['before', 'after']);
      expect(second.messages.filter(isDone)).toHaveLength(1);
      expect(second.errors).toEqual([]);
      again.child.kill('SIGTERM');
      expect(await within(again.exited, 15_000, 'the second agent exit')).toEqual({ code: 0, signal: null });
    } finally {
      for (const peer of peers) await peer.close().catch(() => undefined);
    }
  });

  it('SIGTERM after a job ended unacknowledged and the server went away: exits at once, 0', async () => {
    const peer = await startPeer({ token: TOKEN, mirrors: fx.mirrors });
    try {
      const agent = await fx.agent(['--no-docker'], { server: peer.url });
      const c = await peer.nextConnection();
      c.autoAck = false;
      c.send({ type: 'job', assignment: assignment(42, fx.sha, [plannedStep('echo only')]) });
      await c.waitFor(isDone);
      await peer.close();
      await c.closed;
      agent.child.kill('SIGTERM');
      expect(await within(agent.exited, 5000, 'the agent exit')).toEqual({ code: 0, signal: null });
      expect(agent.logs().find((l) => l.msg.includes('wait in the spool'))).toMatchObject({ spooled: 1 });
    } finally {
      await peer.close().catch(() => undefined);
    }
  });
});

describe('kiln agent: orphaned pool agents', () => {
  it('a pool agent whose server stays unreachable for --orphan-timeout exits 0; an agent started by hand keeps trying', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const byHand = await fx.agent(['--no-docker', '--orphan-timeout', '2s'], { server });
    const pooled = await fx.agent(['--no-docker', '--pool', 'big', '--orphan-timeout', '2s'], { server });
    expect(await within(pooled.exited, 20_000, 'the pool agent exit')).toEqual({ code: 0, signal: null });
    expect(pooled.logs().map((l) => l.msg)).toContain('server unreachable for --orphan-timeout: a pool agent without its server exits');
    expect(byHand.child.exitCode).toBeNull();
    expect(byHand.logs().filter((l) => l.msg.startsWith('cannot reach server')).length).toBeGreaterThan(0);
  });

  it('a pool agent that loses its server mid-job cancels the job, spools its end, and exits 1; a later start delivers the cancel', async () => {
    const peers: Peer[] = [await startPeer({ token: TOKEN, mirrors: fx.mirrors })];
    try {
      const port = Number(new URL(peers[0]!.url).port);
      const agent = await fx.agent(['--no-docker', '--pool', 'big', '--orphan-timeout', '2s'], { server: peers[0]!.url });
      const c = await peers[0]!.nextConnection();
      c.send({ type: 'job', assignment: assignment(43, fx.sha, [plannedStep('echo started; sleep 1000')]) });
      await c.waitFor((m) => m.type === 'log' && m.lines.some((l) => l.text === 'started'));
      await peers[0]!.close();
      expect(await within(agent.exited, 20_000, 'the pool agent exit')).toEqual({ code: 1, signal: null });

      peers.push(await startPeer({ token: TOKEN, mirrors: fx.mirrors, port }));
      await fx.agent(['--no-docker'], { server: peers[1]!.url, workDir: agent.workDir });
      const second = await peers[1]!.nextConnection();
      expect(await second.waitFor(isDone)).toMatchObject({ jobId: 43, status: 'cancelled', reason: expect.stringContaining('the server was unreachable') });
    } finally {
      for (const peer of peers) await peer.close().catch(() => undefined);
    }
  });
});

describe('kiln agent: long timeouts', () => {
  it('runs a job with `timeout: 30d` and a step with `timeout: 30d` to success', async () => {
    await fx.agent(['--no-docker']);
    const c = await fx.peer.nextConnection();
    const job = plannedJob([plannedStep('sleep 0.2; echo survived', { timeoutMs: 30 * DAY_MS })], { name: 'long', timeoutMs: 30 * DAY_MS });
    c.send({ type: 'job', assignment: assignment(44, fx.sha, [], { job }) });
    expect(await c.waitFor(isDone)).toMatchObject({ jobId: 44, status: 'success', exitCode: 0, reason: null });
    expect(linesOf(c.logs())).toContain('survived');
  });
});
