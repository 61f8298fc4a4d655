// End to end: commits to a watched repo run on real agents, through a real server process,
// with their logs, statuses, exit codes and the order that `needs` gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { timeless } from '../helpers/log-text.js';
import { eventually, jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
/** The lines a step printed: after its `▶ name` marker, up to its outcome line. */
const stepLines = (log: string[], step: string) => {
  const start = log.indexOf(`▶ ${step}`);
  if (start === -1) throw new Error(`no marker for step ${step} in:\n${log.join('\n')}`);
  // A step that ran ends with its outcome: `kiln: step 'NAME' exited with code 0 after 0.1 s`.
  const end = log.findIndex((l, i) => i > start && l.startsWith(`kiln: step '${step}' `));
  if (end === -1) throw new Error(`no outcome line for step ${step} in:\n${log.join('\n')}`);
  return log.slice(start + 1, end);
};

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'README.md': 'kiln e2e\n' }); // no pipeline yet: no run
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server, { name: 'agent-one' });
  await startAgent(server, { name: 'agent-two' });
  await eventually(async () => (await server.api('GET', '/api/agents')).body.filter((a: { status: string }) => a.status === 'idle').length === 2, 15_000, 'two idle agents');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('a commit to a watched repo', () => {
  const pipeline = `jobs:
  build:
    steps:
      - name: variables
        run: env | grep -E '^(CI|KILN|KILN_[A-Z_]+)=' | sort
      - name: count
        run: |
          seq 1 500
          for i in 1 2 3; do echo "warning $i" >&2; done
      - name: where
        run: |
          git log -1 --format=%H
          if [ -e later.txt ]; then echo "later.txt is here"; else echo "later.txt is absent"; fi
          [ "$(pwd -P)" = "$(cd "$KILN_WORKSPACE" && pwd -P)" ] && echo "the workspace is the working folder"
`;
  let first: { sha: string; run: any; log: string[] };

  it('runs on an agent and succeeds; its log holds every line in order, the step markers and the SPEC variables', async () => {
    const sha = await repo.commit({ 'pipeline.yml': pipeline }, 'add the pipeline');
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
    expect(run).toMatchObject({ repo: 'web', status: 'success', event: 'push', branch: 'main', tag: null, sha, message: 'add the pipeline' });
    const job = run.jobs[0];
    expect(job).toMatchObject({ name: 'build', status: 'success', exit_code: 0, attempt: 1, agent: expect.stringMatching(/^agent-(one|two)$/) });
    expect(job.steps.map((s: { name: string; status: string; exit_code: number }) => [s.name, s.status, s.exit_code])).toEqual([
      ['variables', 'success', 0], ['count', 'success', 0], ['where', 'success', 0],
    ]);

    const log = await jobLog(server, job.id);
    expect(log.filter((l) => l.startsWith('▶ '))).toEqual(['▶ variables', '▶ count', '▶ where']);
    const count = stepLines(log, 'count');
    expect(count.filter((l) => /^\d+$/.test(l))).toEqual(range(1, 500));
    expect(count.filter((l) => l.startsWith('warning'))).toEqual(['warning 1', 'warning 2', 'warning 3']);
    expect(count).toHaveLength(503);

    const variables = Object.fromEntries(stepLines(log, 'variables').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(variables).toMatchObject({
      CI: 'true', KILN: 'true', KILN_REPO: 'web', KILN_RUN_NUMBER: String(run.number), KILN_RUN_ID: String(run.id),
      KILN_JOB: 'build', KILN_EVENT: 'push', KILN_BRANCH: 'main', KILN_TAG: '', KILN_COMMIT_SHA: sha, KILN_SERVER_URL: server.url,
    });
    expect(variables.KILN_WORKSPACE).toMatch(/^\//);
    expect(timeless(log.at(-1)!)).toBe('kiln: job succeeded in T');
    expect(stepLines(log, 'where')).toEqual([sha, 'later.txt is absent', 'the workspace is the working folder']);
    first = { sha, run, log };
  });

  it('checks out the exact commit: a file committed later is in the later run and absent from a run of the earlier commit', async () => {
    const later = await repo.commit({ 'later.txt': 'added later\n' }, 'add later.txt');
    const laterRun = await runEnded(server, (await runOfCommit(server, 'web', later)).id);
    expect(laterRun.status).toBe('success');
    expect(stepLines(await jobLog(server, laterRun.jobs[0].id), 'where').slice(0, 2)).toEqual([later, 'later.txt is here']);

    // The agents' git caches now hold the later commit: a run of the first one must still not see it.
    const { status, body } = await server.api('POST', '/api/repos/web/runs', { sha: first.sha });
    expect(status).toBe(201);
    const again = await runEnded(server, body.id);
    expect(again).toMatchObject({ status: 'success', event: 'api', sha: first.sha });
    expect(stepLines(await jobLog(server, again.jobs[0].id), 'where').slice(0, 2)).toEqual([first.sha, 'later.txt is absent']);
  });

  it('fails a job at its failing step: later steps are skipped, a failure clean-up step still runs, the run fails, exit codes are kept', async () => {
    const sha = await repo.commit({
      'pipeline.yml': `jobs:
  build:
    steps:
      - name: prepare
        run: echo preparing
      - name: breaks
        run: |
          echo "about to fail"
          exit 3
      - name: never
        run: echo "this must not run"
      - name: clean up
        when: { status: [failure] }
        run: echo "cleaning up"
  publish:
    needs: [build]
    steps: [{ run: echo publishing }]
`,
    }, 'a pipeline that fails');
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
    expect(run.status).toBe('failed');
    const build = run.jobs.find((j: { name: string }) => j.name === 'build');
    expect(build).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(build.steps.map((s: { name: string; status: string; exit_code: number | null }) => [s.name, s.status, s.exit_code])).toEqual([
      ['prepare', 'success', 0], ['breaks', 'failed', 3], ['never', 'skipped', null], ['clean up', 'success', 0],
    ]);
    expect(run.jobs.find((j: { name: string }) => j.name === 'publish')).toMatchObject({ status: 'skipped', agent: null });

    const log = await jobLog(server, build.id);
    expect(log.filter((l) => l.startsWith('▶ '))).toEqual(['▶ prepare', '▶ breaks', '▶ clean up']);
    expect(log).toContain('about to fail');
    expect(log).toContain('cleaning up');
    expect(log).not.toContain('this must not run');
    // The log ends saying what the step and the job came to.
    expect(log.map(timeless)).toContain("kiln: step 'breaks' exited with code 3 after T");
    expect(timeless(log.at(-1)!)).toBe("kiln: job failed: step 2 'breaks' exited with code 3 (after T)");
  });

  it('starts a job only after the job it needs has finished, even with an agent free; every matrix expansion runs', async () => {
    const sha = await repo.commit({
      'pipeline.yml': `jobs:
  a:
    steps: [{ run: "sleep 1; echo a done" }]
  b:
    needs: [a]
    steps: [{ run: echo b runs }]
  m:
    needs: [b]
    matrix: { n: ["1", "2", "3"] }
    steps: [{ run: 'echo "m runs with n=\${{ matrix.n }}"' }]
`,
    }, 'needs and a matrix');
    const { id } = await runOfCommit(server, 'web', sha);
    await eventually(async () => (await jobOf(server, id, 'a'))?.status === 'running', 10_000, 'a running');
    // While a runs, the other agent is idle, and b still waits for a.
    const queue = (await server.api('GET', '/api/queue')).body.filter((j: { run_id: number }) => j.run_id === id);
    expect(queue.find((j: { name: string }) => j.name === 'b')).toMatchObject({ status: 'queued', reason: 'waiting for a job it needs: a' });
    expect((await server.api('GET', '/api/agents')).body.map((a: { status: string }) => a.status).sort()).toEqual(['busy', 'idle']);

    const run = await runEnded(server, id);
    expect(run.status).toBe('success');
    const byName = new Map<string, any>(run.jobs.map((j: { name: string }) => [j.name, j]));
    expect([...byName.keys()]).toEqual(['a', 'b', 'm (n=1)', 'm (n=2)', 'm (n=3)']);
    const a = byName.get('a');
    const b = byName.get('b');
    expect(Date.parse(b.started_at)).toBeGreaterThanOrEqual(Date.parse(a.finished_at));
    for (const n of ['1', '2', '3']) {
      const m = byName.get(`m (n=${n})`);
      expect(m).toMatchObject({ status: 'success', exit_code: 0 });
      expect(Date.parse(m.started_at)).toBeGreaterThanOrEqual(Date.parse(b.finished_at));
      expect(await jobLog(server, m.id)).toContain(`m runs with n=${n}`);
    }
  });
});
