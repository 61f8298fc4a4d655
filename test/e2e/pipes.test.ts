// End to end: the pipeline keys real projects' CI files need (matrix include/exclude, job `name:`,
// `when: {matrix}`, step-level `when: {status}`, `working-directory`), run by a real server and agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'README.md': 'kiln e2e\n' });
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server, { name: 'agent-one' });
  await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('a pipeline written as real projects write theirs', () => {
  const pipeline = `jobs:
  test:
    name: test node \${{ matrix.node }} on \${{ matrix.os }}
    working-directory: packages/core
    matrix:
      node: ["18", "20"]
      os: [linux, mac]
      exclude:
        - { node: "18", os: mac }
      include:
        - { node: "20", coverage: "yes" }
        - { node: "22", os: linux }
    steps:
      - name: where
        run: echo "in $(basename "$PWD") coverage=\${{ matrix.coverage }}"
      - name: coverage
        run: echo uploading coverage
        when: { matrix: { coverage: "yes" } }
      - name: break
        run: exit 3
        when: { matrix: { node: "22" } }
      - name: after the break
        run: echo not reached
      - name: report
        run: echo "reporting the failure"
        when: { status: failure }
      - name: elsewhere
        run: pwd
        working-directory: missing
        when: { status: always }
  lint:
    matrix: { node: ["18", "20"] }
    when: { matrix: { node: "20" } }
    steps: [{ run: echo linted }]
`;

  it('makes the right jobs, runs steps by their `when`, in their working directory, and says why steps are skipped', async () => {
    const sha = await repo.commit({ 'pipeline.yml': pipeline, 'packages/core/index.js': '// core\n' }, 'pipes');
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id, 60_000);
    const jobs = new Map<string, any>(run.jobs.map((j: { name: string }) => [j.name, j]));
    expect([...jobs.keys()]).toEqual([
      'test node 18 on linux', 'test node 20 on linux', 'test node 20 on mac', 'test node 22 on linux', 'lint (node=18)', 'lint (node=20)',
    ]);
    const steps = (name: string) => jobs.get(name).steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`);
    expect(steps('test node 20 on mac')).toEqual([
      'where:success', 'coverage:success', 'break:skipped', 'after the break:success', 'report:skipped', 'elsewhere:failed',
    ]);
    expect(steps('test node 22 on linux')).toEqual([
      'where:success', 'coverage:skipped', 'break:failed', 'after the break:skipped', 'report:success', 'elsewhere:failed',
    ]);
    const log = await jobLog(server, jobs.get('test node 22 on linux').id);
    expect(log).toContain('in core coverage=');
    expect(log).toContain('○ coverage: skipped, its `when: {matrix}` does not match this combination');
    expect(log).toContain('○ after the break: skipped, a step before it failed');
    expect(log).toContain('reporting the failure');
    expect(log).toContain('✖ working-directory "missing" does not exist in the workspace');
    expect(await jobLog(server, jobs.get('test node 20 on mac').id)).toContain('in core coverage=yes');
    expect(jobs.get('lint (node=18)')).toMatchObject({ status: 'skipped' });
    expect(jobs.get('lint (node=20)')).toMatchObject({ status: 'success' });
    expect(run.status).toBe('failed');
  });
});
