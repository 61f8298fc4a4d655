// End to end: the command line of a day's work against a real server and agent: following a
// run to its end with `kiln trigger --wait` (and its exit codes: 0, 1, and 2 at an approval),
// approving, cancelling, re-running and retrying from the shell, `kiln logs --follow`'s exit
// code, and a bad flag on any command answered with one line and that command's usage.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { KILN, killAll, startAgent, startServer, kilnCli, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let web: TestRepo;
let gate: TestRepo;
let broken: TestRepo;

// `test` prints 30 numbered lines and fails until the marker exists (it makes it): it passes the second time.
const WEB = (marker: string) => `jobs:
  build:
    steps: [{ run: "echo built" }]
  test:
    needs: [build]
    steps:
      - run: |
          seq 1 30 | sed 's/^/line /'
          if [ -e ${marker} ]; then echo "tests pass"; else touch ${marker}; echo "tests fail"; exit 3; fi
  deploy:
    needs: [test]
    steps: [{ run: "echo deployed" }]
`;
const GATE = `jobs:
  build:
    steps: [{ run: "echo built" }]
  deploy:
    needs: [build]
    approval: true
    steps: [{ run: "echo shipped" }]
`;

beforeAll(async () => {
  await isolateGit();
  web = await createRepo();
  gate = await createRepo();
  await web.commit({ 'pipeline.yml': WEB(join(await makeTempDir('kiln-cli-daily-'), 'second-time')) });
  await gate.commit({ 'pipeline.yml': GATE });
  broken = await createRepo();
  await broken.commit({ 'pipeline.yml': 'jobs:\n  build:\n    needs: [nope]\n    steps: [{ run: make }]\n' });
  server = await startServer({ repos: { web: web.path, gate: gate.path, broken: broken.path } });
  await startAgent(server, { name: 'cli-daily-agent' });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const kiln = (...args: string[]) => kilnCli(server, ...args);

describe('a failing run, re-run and retried from the command line', () => {
  let runId = 0;

  it('kiln trigger --wait prints each job as it ends, the run and its page, the last 20 lines of the failed job, and exits 1', async () => {
    const { code, stdout, stderr } = await kiln('trigger', 'web', '--wait');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    runId = Number(/\(id (\d+)\)/.exec(stdout)![1]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual(['success build', 'failed test', 'skipped deploy']);
    expect(lines).toContain(`run #1 failed  ${server.url}/runs/${runId}`);
    const tail = lines.slice(lines.indexOf('--- last lines of test (failed) ---') + 1);
    expect(tail).toHaveLength(20);
    expect(tail).toContain('line 30');
    expect(tail).toContain('tests fail');
    expect(tail).not.toContain('line 5');
  });

  it('kiln logs RUN/JOB with an unknown job says so and lists the run\'s jobs', async () => {
    const { code, stdout, stderr } = await kiln('logs', 'web#1/tset');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('kiln: web#1 has no job named "tset"; its jobs: build, test, deploy\n');
  });

  it('kiln logs --follow of an ended run exits with its outcome', async () => {
    const { code, stdout } = await kiln('logs', 'web#1', '--follow');
    expect(code).toBe(1);
    expect(stdout).toContain('[test] tests fail');
    expect((await kiln('logs', 'web#1/build', '--follow')).code).toBe(0);
  });

  it('kiln retry of a job whose need failed prints the server\'s reason and exits 1', async () => {
    const { code, stdout, stderr } = await kiln('retry', 'web#1/deploy');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('kiln: 409: job "deploy" needs "test", which ended failed: re-run "test" (its dependents run again with it), or the failed jobs\n');
  });

  it('kiln rerun RUN --failed starts attempt 2 of the same run; kiln logs --follow then exits 0 when it succeeds', async () => {
    const { code, stdout } = await kiln('rerun', 'web#1', '--failed');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^web#1 attempt 2: test, deploy (queued|running)  ${server.url}/runs/${runId}\n$`));
    const follow = await kiln('logs', 'web#1', '--follow');
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain('[deploy] deployed');
  });

  it('kiln retry JOB (by id) --wait starts the next attempt with the job and what needs it, and follows that attempt to its end', async () => {
    const { body } = await server.api('GET', `/api/runs/${runId}`);
    const test = body.jobs.find((j: { name: string }) => j.name === 'test');
    const { code, stdout } = await kiln('retry', String(test.id), '--wait');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^web#1 attempt 3: test, deploy (queued|running)  ${server.url}/runs/${runId}$`));
    // build kept attempt 1's outcome: it is not this attempt's.
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual(['success test', 'success deploy', 'run #1']);
    expect(lines.at(-1)).toBe(`run #1 success  ${server.url}/runs/${runId}`);
  });
});

describe('a run that waits for an approval', () => {
  it('kiln trigger --wait exits 2 when the run waits for approval, naming the job and how to approve it', async () => {
    const { code, stdout } = await kiln('trigger', 'gate', '--wait');
    expect(code).toBe(2);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((l) => /^ {2}success {3}build \d/.test(l))).toHaveLength(1);
    expect(lines.at(-2)).toMatch(new RegExp(`^gate#1 waits for approval of deploy  ${server.url}/runs/\\d+$`));
    expect(lines.at(-1)).toBe('  approve with: kiln approve gate#1/deploy');
  });

  it('kiln approve JOB lets it go on (a kiln logs --follow waiting on it says so, then ends 0); approving it again is refused with the server\'s reason', async () => {
    const follower = spawn(process.execPath, [KILN, 'logs', 'gate#1/deploy', '--follow'], { env: { ...process.env, KILN_SERVER: server.url } });
    let out = '';
    let err = '';
    follower.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follower.on('exit', resolve));
    await new Promise<void>((resolve) => follower.stderr.on('data', (chunk: Buffer) => ((err += chunk.toString()), err.includes('\n') && resolve())));
    expect(err).toBe('kiln logs: gate#1/deploy waits for approval (kiln approve gate#1/deploy)\n');

    const { code, stdout } = await kiln('approve', 'gate#1/deploy');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^gate#1 deploy approved: (queued|running|success)  ${server.url}/runs/\\d+\n$`));
    const again = await kiln('approve', 'gate#1/deploy');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^kiln: 409: job \d+ is \w+, not blocked\n$/);
    expect(await exited).toBe(0);
    expect(out).toContain('shipped');
  });

  it('kiln cancel RUN cancels a waiting run (which cannot be re-run before it ends); cancelling an ended run says it has ended and exits 1', async () => {
    expect((await kiln('trigger', 'gate', '--wait')).code).toBe(2);
    const early = await kiln('rerun', 'gate#2');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^kiln: 409: .*has not ended yet.*\n$/);
    const { code, stdout } = await kiln('cancel', 'gate#2');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^gate#2 cancelled  ${server.url}/runs/\\d+\n$`));
    const again = await kiln('cancel', 'gate#2');
    expect(again).toMatchObject({ code: 1, stderr: 'kiln: gate#2 has already ended (cancelled); nothing to cancel\n' });
  });

  it('kiln approve JOB --wait follows the run to its end and exits with its outcome', async () => {
    expect((await kiln('trigger', 'gate', '--wait')).code).toBe(2);
    const { code, stdout } = await kiln('approve', 'gate#3/deploy', '--wait');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^gate#3 deploy approved: (queued|running)  http:\S+$/);
    expect(lines.filter((l) => /^ {2}success {3}deploy \d/.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^run #3 success  http:\S+$/);
  });
});

describe('a run that cannot start', () => {
  it('kiln trigger --wait prints why (an invalid pipeline) and exits 1', async () => {
    const { code, stdout } = await kiln('trigger', 'broken', '--wait');
    expect(code).toBe(1);
    const id = /\(id (\d+)\)/.exec(stdout)![1];
    expect(stdout.split('\n').slice(1)).toEqual([
      `run #1 error  ${server.url}/runs/${id}`, 'pipeline.yml:3:13: jobs.build.needs[0]: needs "nope", but there is no such job', '',
    ]);
  });
});

describe('usage mistakes', () => {
  it('kiln COMMAND --no-such-flag prints one line and the command\'s usage, and exits 2, for every command of kiln --help', async () => {
    const commands = [...(await kiln('--help')).stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['server', 'agent', 'trigger', 'logs', 'secret', 'approve', 'cancel', 'rerun', 'retry', 'completion']));
    for (const command of commands) {
      const { code, stdout, stderr } = await kiln(command, '--no-such-flag');
      const [first, blank, usage] = stderr.split('\n');
      expect({ code, stdout, first, blank }, command).toEqual({ code: 2, stdout: '', first: `kiln: ${command}: unknown option '--no-such-flag'`, blank: '' });
      expect(usage).toMatch(new RegExp(`^Usage: kiln ${command}\\b`));
    }
  });

  it('a flag without its value, or a missing RUN, is a usage mistake too', async () => {
    expect(await kiln('trigger', 'web', '--ref')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^kiln: trigger: option '--ref <value>' argument missing\n\nUsage: kiln trigger /) });
    expect(await kiln('rerun')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^kiln: rerun: give exactly one RUN\n\nUsage: kiln rerun RUN \[--failed\]/) });
    expect(await kiln('cancel', 'web')).toMatchObject({ code: 1, stderr: 'kiln: "web" is not a run id or REPO#NUMBER\n' });
  });
});
