// End to end: typed inputs (`on.manual.inputs`) through the API and `kiln trigger --input`, on a
// real server and agent: jobs see KILN_INPUT_* and ${{ inputs.NAME }}, runs record the values,
// bad values are refused with one line and start nothing, a push run gets the defaults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, kilnCli, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;
let pushSha = '';

const PIPELINE = `on:
  push: true
  manual:
    inputs:
      version: {type: string, required: true, description: the release to deploy}
      target: {type: choice, options: [staging, production], default: staging}
      dry-run: {type: boolean}
      replicas: {type: number, default: 2}
jobs:
  deploy:
    steps:
      - name: show
        run: |
          echo "env: $KILN_INPUT_VERSION $KILN_INPUT_TARGET $KILN_INPUT_DRY_RUN $KILN_INPUT_REPLICAS"
          echo "expr: \${{ inputs.version }} to \${{ inputs.target }} dry=\${{ inputs.dry-run }}"
`;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server, { name: 'inputs-agent' });
  pushSha = await repo.commit({ 'pipeline.yml': PIPELINE }, 'inputs');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

async function showLines(runId: number): Promise<string[]> {
  await runEnded(server, runId);
  const log = await jobLog(server, (await jobOf(server, runId, 'deploy')).id);
  return log.filter((line) => line.startsWith('env: ') || line.startsWith('expr: '));
}

const kiln = (...args: string[]) => kilnCli(server, ...args);

describe('typed inputs', () => {
  it('a push run gets the defaults, and an input without one is empty', async () => {
    const run = await runOfCommit(server, 'web', pushSha);
    expect(run.inputs).toEqual({ target: 'staging', 'dry-run': false, replicas: 2 });
    expect(await showLines(run.id)).toEqual(['env:  staging false 2', 'expr:  to staging dry=false']);
  });

  it('an API run with inputs shows them in the job log and in the run view', async () => {
    const { status, body } = await server.api('POST', '/api/repos/web/runs', { inputs: { version: '1.4.2', target: 'production', 'dry-run': true } });
    expect(status).toBe(201);
    expect(body.inputs).toEqual({ version: '1.4.2', target: 'production', 'dry-run': true, replicas: 2 });
    expect(await showLines(body.id)).toEqual(['env: 1.4.2 production true 2', 'expr: 1.4.2 to production dry=true']);
    expect((await server.api('GET', `/api/runs/${body.id}`)).body.inputs).toEqual(body.inputs);
  });

  it('refuses a missing, unknown or wrong value with 400 and one line, and starts nothing', async () => {
    const before = (await server.api('GET', '/api/repos/web/runs')).body.length;
    const refused = async (inputs: unknown) => server.api('POST', '/api/repos/web/runs', { inputs });
    expect(await refused({})).toEqual({ status: 400, body: { error: 'input "version" is required (the release to deploy)' } });
    expect(await refused({ version: '1', targt: 'x' })).toEqual({ status: 400, body: { error: 'unknown input "targt" (did you mean "target"?); the pipeline declares version, target, dry-run, replicas' } });
    expect(await refused({ version: '1', target: 'prod' })).toEqual({ status: 400, body: { error: 'input "target": expected one of staging, production, got "prod"' } });
    expect(await refused({ version: '1', replicas: 'many' })).toEqual({ status: 400, body: { error: 'input "replicas": expected a number, got "many"' } });
    expect((await refused(['x'])).status).toBe(400);
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(before);
  });

  it('kiln trigger --input NAME=VALUE (repeatable) passes them as text, typed by the declaration', async () => {
    const { code, stdout, stderr } = await kiln('trigger', 'web', '--input', 'version=2.0.0', '--input', 'dry-run=true', '--input', 'replicas=3');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const id = Number(/\(id (\d+)\)/.exec(stdout)![1]);
    expect((await server.api('GET', `/api/runs/${id}`)).body.inputs).toEqual({ version: '2.0.0', target: 'staging', 'dry-run': true, replicas: 3 });
    expect(await showLines(id)).toEqual(['env: 2.0.0 staging true 3', 'expr: 2.0.0 to staging dry=true']);
  });

  it('kiln trigger says in one line what is wrong with an input, and exits non-zero', async () => {
    const wrong = await kiln('trigger', 'web', '--input', 'version=1', '--input', 'target=qa');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('kiln: 400: input "target": expected one of staging, production, got "qa"');
    const malformed = await kiln('trigger', 'web', '--input', 'version');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^kiln: --input takes NAME=VALUE, got "version"\n\nUsage: kiln trigger /);
  });
});
