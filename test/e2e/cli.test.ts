// End to end: the client commands against a real server and agent, through KILN_SERVER and KILN_TOKEN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, killAll, runEnded, runOfCommit, startAgent, startServer, kilnCli, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server, { name: 'cli-agent' });
  // A first run, so that the repo's pipeline and mirror are in place.
  await runEnded(server, (await runOfCommit(server, 'web', await repo.commit({
    'pipeline.yml': 'jobs:\n  hello:\n    steps:\n      - name: greet\n        run: |\n          echo "hello from $KILN_REPO run $KILN_RUN_NUMBER"\n          echo "on $KILN_EVENT"\n',
  }, 'the first commit'))).id);
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const kiln = (...args: string[]) => kilnCli(server, ...args);

describe('the kiln command line', () => {
  let runNumber = 0;
  let runId = 0;

  it('kiln trigger REPO --wait starts a run, follows it to its end and exits 0 when it succeeded', async () => {
    const { code, stdout, stderr } = await kiln('trigger', 'web', '--wait');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const started = /^web run #(\d+) \(id (\d+)\) (?:queued|running): refs\/heads\/main [0-9a-f]{12} the first commit$/m.exec(stdout);
    expect(started, stdout).not.toBeNull();
    runNumber = Number(started![1]);
    runId = Number(started![2]);
    expect(stdout).toContain(`run #${runNumber} success`);
    expect((await server.api('GET', `/api/runs/${runId}`)).body).toMatchObject({ status: 'success', event: 'api', number: runNumber });
  });

  it('kiln trigger --wait exits 1 when the run fails', async () => {
    await repo.commit({ 'pipeline.yml': 'jobs:\n  hello:\n    steps: [{ run: exit 7 }]\n' }, 'a failing commit');
    const { code, stdout } = await kiln('trigger', 'web', '--wait');
    expect(code).toBe(1);
    expect(stdout).toMatch(/run #\d+ failed/);
  });

  it('kiln logs RUN prints the log of the run', async () => {
    const { code, stdout } = await kiln('logs', String(runId));
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toContain('▶ greet');
    expect(lines).toContain(`hello from web run ${runNumber}`);
    expect(lines).toContain('on api');
    expect(lines.indexOf('▶ greet')).toBeLessThan(lines.indexOf('on api'));
    expect((await kiln('logs', `web#${runNumber}`)).stdout).toBe(stdout);
  });

  it('kiln status REPO lists its runs with their status and jobs', async () => {
    const runs = await eventually(async () => {
      const list = (await server.api('GET', '/api/repos/web/runs')).body;
      return list.length >= 3 && list.every((r: { status: string }) => r.status !== 'queued' && r.status !== 'running') ? list : null;
    }, 15_000, 'every run ended');
    const { code, stdout } = await kiln('status', 'web');
    expect(code).toBe(0);
    const runLines = stdout.split('\n').filter((l) => l.startsWith('#'));
    expect(runLines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(runs.map((r: { number: number; status: string }) => `#${r.number} ${r.status}`));
    expect(stdout).toMatch(new RegExp(`^#${runNumber} success +main [0-9a-f]{8} api .*the first commit$`, 'm'));
    expect(stdout).toMatch(/^ {4}success +hello /m);
  });
});
