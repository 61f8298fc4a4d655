// Running a job's steps in order on the shell executor: statuses, skips, clean-up, timeouts, env.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob, type RunJobOptions } from '../../../agent/executors/run-job.js';
import { pickBaseEnv } from '../../../agent/executors/host-env.js';
import { createShellExecutor } from '../../../agent/executors/shell.js';
import type { LogLine } from '../../../agent/logs/chunk.js';
import { createJobLog } from '../../../agent/logs/job-log.js';
import type { PlannedJob } from '../../../shared/pipeline/types.js';
import { timeless } from '../../helpers/log-text.js';
import { plannedJob, plannedStep } from '../../helpers/plan.js';
import { useTempDirs } from '../../helpers/tmp.js';

describe('runJob', () => {
  const tempDir = useTempDirs('kiln-run-job-');

  async function run(job: PlannedJob, extra: Partial<RunJobOptions> = {}) {
    const lines: LogLine[] = [];
    const log = createJobLog({ jobId: 1, attempt: 1, onChunk: (c) => lines.push(...c.lines) });
    const ended: string[] = [];
    const result = await runJob({
      job,
      executor: createShellExecutor({ baseEnv: pickBaseEnv(process.env), graceMs: 500 }),
      workspace: extra.workspace ?? (await tempDir()),
      env: {},
      output: log,
      onStepEnd: (s) => ended.push(`${s.name}:${s.status}`),
      ...extra,
    });
    log.close();
    const text = lines.map((l) => `${l.stream === 'system' ? '# ' : ''}${l.text}`);
    return { result, text, ended, lines };
  }

  it('runs the steps in order, each after its marker, and succeeds', async () => {
    const { result, text, lines } = await run(plannedJob([plannedStep('echo one', { name: 'first' }), plannedStep('echo two', { name: 'second' })]));
    expect(result).toMatchObject({ status: 'success', exitCode: 0, reason: null });
    expect(text.map(timeless)).toEqual([
      '# ▶ first', 'one', "# kiln: step 'first' exited with code 0 after T", '# ▶ second', 'two', "# kiln: step 'second' exited with code 0 after T",
    ]);
    expect(lines.map((l) => l.step)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(result.cause).toBeNull();
    for (const step of result.steps) expect(step.finishedAt! >= step.startedAt!).toBe(true);
  });

  it('fails the job on a failing step and skips the steps after it', async () => {
    const { result, text, ended } = await run(plannedJob([
      plannedStep('echo a', { name: 'a' }), plannedStep('exit 4', { name: 'b' }), plannedStep('echo c', { name: 'c' }),
    ]));
    expect(result).toMatchObject({ status: 'failed', exitCode: 4, reason: 'step "b" failed', cause: "step 2 'b' exited with code 4" });
    expect(ended).toEqual(['a:success', 'b:failed', 'c:skipped']);
    expect(text.map(timeless)).toContain("# kiln: step 'b' exited with code 4 after T");
    expect(text).not.toContain('c');
    expect(result.steps[2]).toMatchObject({ startedAt: null, finishedAt: null, exitCode: null });
  });

  it('still runs `failure` and `always` clean-up steps after a failure, not `success` ones', async () => {
    const { result, ended } = await run(plannedJob([
      plannedStep('false', { name: 'build' }),
      plannedStep('echo deploy', { name: 'deploy', when: { status: ['success'] } }),
      plannedStep('echo report', { name: 'report', when: { status: ['failure'] } }),
      plannedStep('echo clean', { name: 'clean', when: { status: ['always'] } }),
    ]));
    expect(result.status).toBe('failed');
    expect(ended).toEqual(['build:failed', 'deploy:skipped', 'report:success', 'clean:success']);
  });

  it('skips `failure` steps when nothing failed', async () => {
    const { result, ended } = await run(plannedJob([
      plannedStep('true', { name: 'build' }),
      plannedStep('echo report', { name: 'report', when: { status: ['failure'] } }),
      plannedStep('echo clean', { name: 'clean', when: { status: ['always'] } }),
    ]));
    expect(result.status).toBe('success');
    expect(ended).toEqual(['build:success', 'report:skipped', 'clean:success']);
  });

  it('says in the log why each step is skipped', async () => {
    const { result, text } = await run(plannedJob([
      plannedStep('exit 2', { name: 'build' }),
      plannedStep('echo deploy', { name: 'deploy' }),
      plannedStep('echo cover', { name: 'coverage', when: { status: ['always'], matrix: { node: ['20'] }, matrixMatches: false } }),
    ]));
    expect(text).toContain('# ○ deploy: skipped, a step before it failed');
    expect(text).toContain('# ○ coverage: skipped, its `when: {matrix}` does not match this combination');
    expect(result.steps.map((s) => s.reason)).toEqual([null, 'a step before it failed', 'its `when: {matrix}` does not match this combination']);
  });

  it('fails a step whose working directory does not exist, with one line saying so', async () => {
    const { result, text, ended } = await run(plannedJob([
      { ...plannedStep('echo in', { name: 'in' }), workingDirectory: 'missing/dir' },
      plannedStep('echo after', { name: 'after', when: { status: ['failure'] } }),
    ]));
    expect(result.status).toBe('failed');
    expect(ended).toEqual(['in:failed', 'after:success']);
    expect(text).toContain('# ✖ working-directory "missing/dir" does not exist in the workspace');
    expect(text).not.toContain('in');
  });

  it('lets a `continue_on_error` step fail without failing the job', async () => {
    const { result, ended, text } = await run(plannedJob([
      plannedStep('exit 2', { name: 'flaky', continueOnError: true }), plannedStep('true', { name: 'next' }),
    ]));
    expect(result.status).toBe('success');
    expect(ended).toEqual(['flaky:failed', 'next:success']);
    expect(text.map(timeless)).toContain("# kiln: step 'flaky' exited with code 2 after T (continue_on_error: the job goes on)");
    expect(result.steps[0]!.exitCode).toBe(2);
  });

  it('fails a step that passes its own timeout, and the job with it', async () => {
    const { result, ended, text } = await run(plannedJob([plannedStep('sleep 30', { name: 'slow', timeoutMs: 200 }), plannedStep('true', { name: 'next' })]));
    expect(result.status).toBe('failed');
    expect(result.steps[0]).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(ended).toEqual(['slow:failed', 'next:skipped']);
    expect(text).toContain('# ✖ step timed out after 200 ms');
    expect(text.map(timeless)).toContain("# kiln: step 'slow' timed out after T");
    expect(result.cause).toBe("step 1 'slow' timed out");
  });

  it('stops a job that passes its timeout: failed with reason timeout, the rest skipped', async () => {
    const t0 = Date.now();
    const { result, ended } = await run(plannedJob([
      plannedStep('sleep 30', { name: 'slow' }), plannedStep('echo clean', { name: 'clean', when: { status: ['always'] } }),
    ], { timeoutMs: 300 }));
    expect(result).toMatchObject({ status: 'failed', reason: 'timeout', cause: 'timed out after 0.3 s' });
    expect(ended).toEqual(['slow:failed', 'clean:skipped']);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('cancels: the running step is stopped and the job ends cancelled', async () => {
    const abort = new AbortController();
    const running = run(plannedJob([plannedStep('sleep 30', { name: 'slow' }), plannedStep('true', { name: 'next' })]), {
      signal: abort.signal,
      onStepStart: () => setTimeout(() => abort.abort(), 100),
    });
    const { result, text } = await running;
    expect(result.status).toBe('cancelled');
    expect(text.map(timeless)).toContain("# kiln: step 'slow' was cancelled after T");
    expect(result.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
  });

  it('layers step env over job env under the agent variables, and expands ${{ env.X }}', async () => {
    const { text } = await run(plannedJob([
      plannedStep('echo "$A $B $C ${{ env.B }} [${{ env.NONE }}] $KILN_JOB"', { name: 's', env: { B: 'step' } }),
    ], { env: { A: 'job', B: 'job', C: 'job', KILN_JOB: 'spoofed' } }), { env: { C: 'agent', KILN_JOB: 'test' } });
    expect(text[1]).toBe('job step agent step [] test');
  });

  it('expands ${{ hashFiles() }} over the workspace', async () => {
    const workspace = await tempDir();
    await writeFile(join(workspace, 'package-lock.json'), '{}');
    const { text } = await run(plannedJob([plannedStep("echo key-${{ hashFiles('package-lock.json') }}", { name: 's' })]), { workspace });
    expect(text[1]).toMatch(/^key-[0-9a-f]{64}$/);
  });

  it('ends in error when a step cannot be run at all, and still runs clean-up', async () => {
    const { result, ended, text } = await run(plannedJob([
      plannedStep('true', { name: 'odd', shell: 'no-such-shell-kiln' }),
      plannedStep('true', { name: 'next' }),
      plannedStep('true', { name: 'clean', when: { status: ['always'] } }),
    ]));
    expect(result.status).toBe('error');
    expect(result.reason).toContain('no-such-shell-kiln');
    expect(ended).toEqual(['odd:error', 'next:skipped', 'clean:success']);
    expect(text[1]).toMatch(/^# ✖ cannot start no-such-shell-kiln/);
    expect(text[2]).toMatch(/^# kiln: step 'odd' could not run: cannot start no-such-shell-kiln.* after \d/);
    expect(result.cause).toMatch(/^step 1 'odd' could not run: cannot start no-such-shell-kiln/);
  });

  it('ends in error, with every step skipped, when the executor cannot be set up', async () => {
    const file = join(await tempDir(), 'a-file');
    await writeFile(file, '');
    const { result, text } = await run(plannedJob([plannedStep('true', { name: 's' })]), { workspace: join(file, 'ws') });
    expect(result.status).toBe('error');
    expect(result.reason).toMatch(/^executor setup failed/);
    expect(result.steps.map((s) => s.status)).toEqual(['skipped']);
    expect(text[0]).toMatch(/^# ✖ executor setup failed/);
  });
});
