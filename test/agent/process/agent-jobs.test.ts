// A real `kiln agent` process against a real WebSocket peer: hello, and jobs run end to end.
import { PROTOCOL_VERSION } from '../../../shared/protocol/messages.js';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plannedStep } from '../../helpers/plan.js';
import { waitFor } from '../../helpers/processes.js';
import { useAgentFixture } from './fixture.js';
import { timeless } from '../../helpers/log-text.js';
import { assignment, leaseToken, linesOf } from './peer.js';

const fx = useAgentFixture();
const isDone = (m: { type: string }) => m.type === 'done';

describe('kiln agent: jobs', () => {
  it('says hello with its name, labels, capacity and pool, and holds no jobs', async () => {
    await fx.agent(['--labels', 'linux, gpu', '--capacity', '2', '--name', 'builder-7', '--pool', 'big', '--no-docker']);
    const c = await fx.peer.nextConnection();
    expect(await c.hello).toEqual({
      type: 'hello', protocol: PROTOCOL_VERSION, name: 'builder-7', labels: ['linux', 'gpu'], capacity: 2,
      version: expect.any(String), pool: 'big', jobs: [],
    });
  });

  it('checks out the commit, runs the steps, and sends step events, ordered log lines and done', async () => {
    const agent = await fx.agent();
    const c = await fx.peer.nextConnection();
    await c.hello;
    c.send({ type: 'job', assignment: assignment(11, fx.sha, [
      plannedStep('cat README.md; echo "ws=$KILN_WORKSPACE"'),
      plannedStep('for i in 1 2 3 4 5; do echo "line $i"; done; echo oops >&2'),
    ]) });
    const done = await c.waitFor((m) => m.type === 'done');
    expect(done).toMatchObject({ jobId: 11, token: leaseToken(11), attempt: 1, status: 'success', exitCode: 0, reason: null });
    const logs = c.logs();
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i));
    expect(done).toMatchObject({ lastSeq: logs.length - 1 });
    const workspace = join(agent.workDir, 'workspaces', 'web', '1');
    const lines = linesOf(logs);
    expect(lines[0]).toMatch(/^kiln: checking out [0-9a-f]{12} of web/);
    expect(lines[1]).toMatch(/^kiln: checked out [0-9a-f]{12} in \d+\.\d\d s \(fresh clone, fetched from the server\)$/);
    const loop = 'for i in 1 2 3 4 5; do echo "line $i"; done; echo oops >&2';
    expect(lines.slice(lines.indexOf('hello from the repo')).map(timeless)).toEqual([
      'hello from the repo', `ws=${workspace}`, `kiln: step 'cat README.md; echo "ws=$KILN_WORKSPACE"' exited with code 0 after T`,
      `▶ ${loop}`, 'line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'oops', `kiln: step '${loop}' exited with code 0 after T`,
      'kiln: job succeeded in T',
    ]);
    expect(logs.flatMap((l) => l.lines).find((l) => l.text === 'oops')).toMatchObject({ stream: 'stderr', step: 1 });
    const steps = c.messages.filter((m) => m.type === 'step').map((m) => m.type === 'step' && [m.index, m.status, m.exitCode]);
    expect(steps).toEqual([[0, 'running', null], [0, 'success', 0], [1, 'running', null], [1, 'success', 0]]);
    expect(c.messages.findIndex(isDone)).toBe(c.messages.length - 1);
    expect(existsSync(join(workspace, '.git'))).toBe(true); // kept for the next job of the repo
    expect(c.errors).toEqual([]);
  });

  it('ends a job failed with the exit code of the step that failed, and skips the rest', async () => {
    await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(12, fx.sha, [plannedStep('exit 7'), plannedStep('echo never')]) });
    expect(await c.waitFor(isDone)).toMatchObject({ status: 'failed', exitCode: 7, reason: 'step "exit 7" failed' });
    expect(c.messages.filter((m) => m.type === 'step' && m.index === 1).map((m) => m.type === 'step' && m.status)).toEqual(['skipped']);
    expect(linesOf(c.logs())).not.toContain('never');
  });

  it('ends a job error when the checkout fails, with the reason in the log', async () => {
    const agent = await fx.agent();
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(13, 'f'.repeat(40), [plannedStep('echo never')]) });
    const done = await c.waitFor(isDone);
    expect(done).toMatchObject({ status: 'error', reason: expect.stringMatching(/^checkout failed: commit f{40} not found/) });
    expect(linesOf(c.logs()).at(-2)).toMatch(/^✖ checkout failed: commit f{40} not found on the server/);
    expect(linesOf(c.logs()).at(-1)).toMatch(/^kiln: job ended in error: checkout failed: commit f{40} not found on the server.* \(after \d/);
    expect(c.messages.some((m) => m.type === 'step')).toBe(false);
    expect(await readdir(join(agent.workDir, 'workspaces'))).toEqual([]);
  });

  it('ends a job that needs an image error when the agent has no Docker engine', async () => {
    await fx.agent(['--no-docker']);
    const c = await fx.peer.nextConnection();
    const a = assignment(14, fx.sha, [plannedStep('echo never')]);
    c.send({ type: 'job', assignment: { ...a, job: { ...a.job, image: 'node:20' } } });
    expect(await c.waitFor(isDone)).toMatchObject({ status: 'error', reason: 'job "job-14" needs Docker (image node:20), and this agent has no Docker engine' });
  });

  it('masks the secrets of the assignment in the log', async () => {
    await fx.agent();
    const c = await fx.peer.nextConnection();
    const a = assignment(15, fx.sha, [plannedStep('echo "key=$DEPLOY_KEY"')]);
    c.send({ type: 'job', assignment: { ...a, env: { ...a.env, DEPLOY_KEY: 's3cr3t-v4lue' }, secrets: ['s3cr3t-v4lue'] } });
    await c.waitFor(isDone);
    expect(linesOf(c.logs())).toContain('key=***');
    expect(JSON.stringify(c.messages)).not.toContain('s3cr3t-v4lue');
  });

  it('frees the slot before done leaves: a job sent the moment done arrives runs (as the hub does)', async () => {
    await fx.agent(['--capacity', '1']);
    const c = await fx.peer.nextConnection();
    for (const jobId of [18, 19, 20]) {
      c.send({ type: 'job', assignment: assignment(jobId, fx.sha, [plannedStep(`echo job ${jobId}`)]) });
      expect(await c.waitFor((m) => m.type === 'done' && m.jobId === jobId)).toMatchObject({ status: 'success' });
    }
  });

  it('refuses a job over its capacity with done error, and goes on with the one it runs', async () => {
    await fx.agent(['--capacity', '1']);
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(16, fx.sha, [plannedStep('sleep 0.5; echo first')]) });
    c.send({ type: 'job', assignment: assignment(17, fx.sha, [plannedStep('echo second')]) });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 17)).toMatchObject({ status: 'error', reason: expect.stringContaining('capacity 1') });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 16)).toMatchObject({ status: 'success' });
  });
});
