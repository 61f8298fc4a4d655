// Stopping work: cancel reaches the job's process tree; drain (message or SIGTERM) finishes jobs and exits.
import { describe, expect, it } from 'vitest';
import { plannedStep } from '../../helpers/plan.js';
import { isAlive, waitFor } from '../../helpers/processes.js';
import { useAgentFixture } from './fixture.js';
import { assignment, linesOf } from './peer.js';

const fx = useAgentFixture();
const isDone = (m: { type: string }) => m.type === 'done';
const running = (m: { type: string; status?: string }) => m.type === 'step' && m.status === 'running';
// Prints its own pid and a background child's, then waits on both.
const sleeper = plannedStep('sleep 1000 & echo "pids $$ $!"; sleep 1000');

async function pidsOf(c: Awaited<ReturnType<typeof fx.peer.nextConnection>>): Promise<number[]> {
  await c.waitFor((m) => m.type === 'log' && m.lines.some((l) => l.text.startsWith('pids ')));
  return linesOf(c.logs()).find((l) => l.startsWith('pids '))!.slice(5).split(' ').map(Number);
}

describe('kiln agent: cancel and drain', () => {
  it('cancel kills the whole process tree within 5 s and reports the job cancelled', async () => {
    await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(31, fx.sha, [sleeper, plannedStep('echo never')]) });
    const pids = await pidsOf(c);
    const t0 = Date.now();
    c.send({ type: 'cancel', jobId: 31, reason: 'cancelled by alice' });
    expect(await c.waitFor(isDone, 6000)).toMatchObject({ jobId: 31, status: 'cancelled', reason: 'cancelled by alice' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(pids.filter(isAlive)).toEqual([]);
    const steps = c.messages.filter((m) => m.type === 'step').map((m) => m.type === 'step' && `${m.index}:${m.status}`);
    expect(steps).toEqual(['0:running', '0:cancelled', '1:skipped']);
  });

  it('drain: the running job finishes, then drained is sent, and the process exits 0', async () => {
    const agent = await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(32, fx.sha, [plannedStep('sleep 0.7; echo finished')]) });
    await c.waitFor(running);
    c.send({ type: 'drain' });
    const done = await c.waitFor(isDone);
    expect(done).toMatchObject({ status: 'success' });
    await c.waitFor((m) => m.type === 'drained');
    expect((await agent.exited).code).toBe(0);
    expect(linesOf(c.logs())).toContain('finished');
    expect(c.messages.map((m) => m.type).slice(-2)).toEqual(['done', 'drained']);
  });

  it('SIGTERM drains: it tells the server, finishes the job, and exits 0', async () => {
    const agent = await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(33, fx.sha, [plannedStep('sleep 0.7; echo finished')]) });
    await c.waitFor(running);
    agent.child.kill('SIGTERM');
    await c.waitFor((m) => m.type === 'draining');
    expect(await c.waitFor(isDone)).toMatchObject({ status: 'success' });
    await c.waitFor((m) => m.type === 'drained');
    expect((await agent.exited).code).toBe(0);
  });

  it('a second SIGTERM cancels the running jobs, reports them, and exits', async () => {
    const agent = await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(34, fx.sha, [sleeper]) });
    const pids = await pidsOf(c);
    agent.child.kill('SIGTERM');
    await c.waitFor((m) => m.type === 'draining');
    agent.child.kill('SIGTERM');
    expect(await c.waitFor(isDone, 6000)).toMatchObject({ status: 'cancelled', reason: 'cancelled: SIGTERM' });
    expect((await agent.exited).code).toBe(1);
    expect(await waitFor(() => pids.every((p) => !isAlive(p)), 1000)).toBe(true);
  });

  it('--once takes one job, finishes it, and exits 0', async () => {
    const agent = await fx.agent(['--once']);
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(35, fx.sha, [plannedStep('echo only')]) });
    await c.waitFor((m) => m.type === 'drained');
    expect((await agent.exited).code).toBe(0);
    expect(c.messages.map((m) => m.type)).toContain('draining');
  });
});
