// Losing the server: the agent keeps running its jobs, reconnects, and delivers every line once.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plannedStep } from '../../helpers/plan.js';
import { waitFor } from '../../helpers/processes.js';
import { useAgentFixture } from './fixture.js';
import { assignment, leaseToken, linesOf, type LogMessage } from './peer.js';

const fx = useAgentFixture();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isDone = (m: { type: string }) => m.type === 'done';
const seqs = (logs: LogMessage[]) => logs.map((l) => l.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const lineNumbers = (logs: LogMessage[]) => linesOf(logs).filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const countingJob = (jobId: number, n: number) =>
  assignment(jobId, fx.sha, [plannedStep(`for i in $(seq 1 ${n}); do echo "line $i"; sleep 0.05; done`)]);

describe('kiln agent: reconnects', () => {
  it('keeps the job running while disconnected, then replays only unacknowledged chunks, in order, and the done', async () => {
    const agent = await fx.agent();
    const c1 = await fx.peer.nextConnection();
    c1.autoAck = false;
    c1.send({ type: 'job', assignment: countingJob(21, 30) });
    await c1.waitFor((m) => m.type === 'log' && m.seq >= 2);
    c1.send({ type: 'ack', jobId: 21, attempt: 1, seq: 0 });
    c1.send({ type: 'ack', jobId: 21, attempt: 1, seq: 1 });
    const ackedFile = join(agent.workDir, 'spool', '21.1.acked'); // the agent has recorded the acks
    expect(await waitFor(() => readFile(ackedFile, 'utf8').then((t) => t === '1', () => false), 5000)).toBe(true);
    fx.peer.refuseWith = 503; // the server is "restarting": the job ends while the agent is away
    c1.socket.terminate();
    await sleep(2500);
    fx.peer.refuseWith = null;

    const c2 = await fx.peer.nextConnection(15_000);
    expect((await c2.hello).jobs).toEqual([{ jobId: 21, attempt: 1, token: leaseToken(21) }]);
    const done = await c2.waitFor(isDone);
    expect(done).toMatchObject({ jobId: 21, status: 'success' });
    expect(c1.messages.some(isDone)).toBe(false);

    const first = seqs(c1.logs());
    const second = seqs(c2.logs());
    expect(second).toEqual(range(2, (done as { lastSeq: number }).lastSeq)); // acked 0 and 1 are never sent again
    expect(first.filter((s) => second.includes(s)).every((s) => s >= 2)).toBe(true);
    expect(first).toEqual(range(0, first.length - 1));
    expect(lineNumbers([...c1.logs(), ...c2.logs()])).toEqual(range(1, 30)); // each line once, in order
    expect(c2.messages.filter((m) => m.type === 'step').map((m) => m.type === 'step' && m.status)).toEqual(['running', 'success']);
    expect(agent.stderr()).toContain('connection to server lost');
    expect(await waitFor(async () => (await readdir(join(agent.workDir, 'spool'))).length === 0, 5000)).toBe(true);
  });

  it('delivers, after a restart of the agent, the chunks and the done the server never acknowledged', async () => {
    const first = await fx.agent();
    const c1 = await fx.peer.nextConnection();
    c1.autoAck = false;
    c1.send({ type: 'job', assignment: countingJob(22, 5) });
    const done = await c1.waitFor(isDone);
    await first.kill();

    await fx.agent([], { workDir: first.workDir });
    const c2 = await fx.peer.nextConnection();
    expect((await c2.hello).jobs).toEqual([{ jobId: 22, attempt: 1, token: leaseToken(22) }]);
    expect(await c2.waitFor(isDone)).toEqual(done);
    expect(seqs(c2.logs())).toEqual(seqs(c1.logs()));
    expect(lineNumbers(c2.logs())).toEqual(range(1, 5));
  });

  it('drops a connection on which the server stays silent, and connects again', async () => {
    fx.peer.leaseMs = 2000; // a server pings every 500 ms (this one every 200): 1 s of silence means it is gone
    try {
      const agent = await fx.agent();
      const c1 = await fx.peer.nextConnection();
      await c1.hello;
      await sleep(1500);
      expect(c1.socket.readyState).toBe(c1.socket.OPEN); // pings keep it alive
      c1.silent = true;
      await c1.closed;
      await fx.peer.nextConnection();
      expect(agent.logs().some((l) => l.msg.startsWith('server silent'))).toBe(true);
    } finally {
      fx.peer.leaseMs = 30_000;
    }
  });

  it('says clearly that the token was refused, and tries again slowly without exiting', async () => {
    const before = fx.peer.upgrades;
    const agent = await fx.agent([], { token: 'not-the-token' });
    expect(await waitFor(() => agent.stderr().includes('agent token refused by server'), 10_000)).toBe(true);
    await sleep(1500);
    expect(agent.child.exitCode).toBe(null);
    expect(fx.peer.upgrades - before).toBe(1);
    expect(agent.stderr()).not.toContain('not-the-token');
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });
});
