// End to end: cancelling a run reaches the job's whole process tree on the agent, and the
// agent's slot goes to the next job only once that tree is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { isAlive, waitFor } from '../helpers/processes.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server, { name: 'the-agent' });
  await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('cancelling a run', () => {
  it('ends the running job cancelled and stops its whole process tree within 5 s, a child that ignores TERM and its background child included', async () => {
    // With MODE=quick (an API run's env) the same job just succeeds: the job that waits for the slot.
    const sha = await repo.commit({
      'pipeline.yml': `jobs:
  hang:
    steps:
      - name: hang
        run: |
          if [ "$MODE" = quick ]; then echo "quick job"; exit 0; fi
          echo "pid shell $$"
          sh -c 'trap "" TERM; sleep 1000 & echo "pid grandchild $!"; echo "pid child $$"; wait' &
          sleep 1000 &
          echo "pid sleep $!"
          wait
      - name: after
        run: echo "this must not run"
`,
    });
    const run = await runOfCommit(server, 'web', sha);
    const jobId: number = run.jobs[0].id;
    const pids = await eventually(async () => {
      const found = new Map((await jobLog(server, jobId)).filter((l) => l.startsWith('pid ')).map((l) => [l.split(' ')[1]!, Number(l.split(' ')[2])]));
      return found.size === 4 ? found : null;
    }, 15_000, 'the four pids in the log');
    expect([...pids.keys()].sort()).toEqual(['child', 'grandchild', 'shell', 'sleep']);
    expect([...pids.values()].every(isAlive)).toBe(true);

    // A second run of the same commit waits for the only agent.
    const next = (await server.api('POST', '/api/repos/web/runs', { sha, env: { MODE: 'quick' } })).body;
    expect(next.jobs[0].status).toBe('queued');

    const cancelledAt = Date.now();
    const { status, body } = await server.api('POST', `/api/runs/${run.id}/cancel`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'cancelled', jobs: [{ name: 'hang', status: 'cancelled' }] });
    const allGone = await waitFor(() => [...pids.values()].every((pid) => !isAlive(pid)), 5000);
    expect(allGone, `still alive ${Date.now() - cancelledAt} ms after the cancel: ${[...pids].filter(([, pid]) => isAlive(pid)).map(([n]) => n).join(', ')}`).toBe(true);

    const ended = await runEnded(server, run.id);
    expect(ended).toMatchObject({ status: 'cancelled', jobs: [{ status: 'cancelled' }] });
    expect(await jobLog(server, jobId)).not.toContain('this must not run');

    // The agent takes the waiting job once its slot is free, and runs it.
    const second = await runEnded(server, next.id);
    expect(second).toMatchObject({ status: 'success', jobs: [{ name: 'hang', status: 'success', attempt: 1, agent: 'the-agent' }] });
    expect(await jobLog(server, second.jobs[0].id)).toContain('quick job');
  });
});
