// The executor conformance suite: every Executor (shell, docker…) must pass these on real processes.
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Executor, StepOutcome } from '../../../agent/executors/executor.js';
import type { PlannedStep } from '../../../shared/pipeline/types.js';
import { plannedStep } from '../../helpers/plan.js';
import { isAlive, waitFor } from '../../helpers/processes.js';
import { useTempDirs } from '../../helpers/tmp.js';

export interface ConformanceOptions {
  /** The executor's processes are host processes whose pids `process.kill(pid, 0)` can see. */
  hostPids: boolean;
}

interface Ran {
  outcome: StepOutcome;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Registers the conformance tests for the executors `makeExecutor` builds (with default options). */
export function describeExecutorConformance(
  name: string,
  makeExecutor: () => Executor | Promise<Executor>,
  options: ConformanceOptions,
): void {
  const tempDir = useTempDirs('kiln-conformance-');

  async function started(env: Record<string, string> = {}) {
    const workspace = await tempDir();
    const executor = await makeExecutor();
    await executor.setup({ workspace, env });
    return { executor, workspace };
  }

  async function run(executor: Executor, step: PlannedStep, env: Record<string, string> = {}, signal = new AbortController().signal): Promise<Ran> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const t0 = Date.now();
    const outcome = await executor.runStep(step, { env, signal, onOutput: (s, d) => (s === 'stdout' ? out : err).push(d) });
    return { outcome, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: Date.now() - t0 };
  }

  const readPid = async (workspace: string, file: string) => Number((await readFile(join(workspace, file), 'utf8')).trim());

  describe(`executor conformance: ${name}`, () => {
    it('captures stdout and stderr separately, each in order, byte for byte', async () => {
      const { executor } = await started();
      const ran = await run(executor, plannedStep(
        'i=1; while [ $i -le 300 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done\nprintf "\\033[31mred\\033[0m\\n"',
      ));
      const lines = (prefix: string) => Array.from({ length: 300 }, (_, i) => `${prefix} ${i + 1}\n`).join('');
      expect(ran.stdout).toBe(`${lines('out')}\u001b[31mred\u001b[0m\n`);
      expect(ran.stderr).toBe(lines('err'));
      await executor.teardown();
    });

    it('reports the exit code of the script', async () => {
      const { executor } = await started();
      expect((await run(executor, plannedStep('true'))).outcome).toEqual({ exitCode: 0 });
      expect((await run(executor, plannedStep('exit 3'))).outcome).toEqual({ exitCode: 3 });
      await executor.teardown();
    });

    it('gives the step the job env and the step env, the step env winning', async () => {
      const { executor } = await started({ JOB_VAR: 'from-job', SHARED: 'job' });
      const ran = await run(executor, plannedStep('echo "$JOB_VAR $STEP_VAR $SHARED"'), { STEP_VAR: 'from-step', SHARED: 'step' });
      expect(ran.stdout).toBe('from-job from-step step\n');
      await executor.teardown();
    });

    it('runs the step in the workspace', async () => {
      const { executor, workspace } = await started();
      await run(executor, plannedStep('echo here > marker.txt'));
      expect(await readFile(join(workspace, 'marker.txt'), 'utf8')).toBe('here\n');
      await executor.teardown();
    });

    it('runs the step in its working directory, a folder of the workspace', async () => {
      const { executor, workspace } = await started();
      await mkdir(join(workspace, 'packages/core'), { recursive: true });
      await run(executor, { ...plannedStep('echo here > marker.txt'), workingDirectory: 'packages/core' });
      expect(await readFile(join(workspace, 'packages/core/marker.txt'), 'utf8')).toBe('here\n');
      await executor.teardown();
    });

    it('stops a multi-line `sh -e` script at its first failing command', async () => {
      const { executor } = await started();
      const ran = await run(executor, plannedStep('echo one\nfalse\necho two'));
      expect(ran.stdout).toBe('one\n');
      expect(ran.outcome.exitCode).toBe(1);
      await executor.teardown();
    });

    it("runs the script with the step's shell", async () => {
      const { executor } = await started();
      expect((await run(executor, plannedStep('echo "[$UNSET_IN_KILN_TEST]"'))).stdout).toBe('[]\n');
      expect((await run(executor, plannedStep('echo "[$UNSET_IN_KILN_TEST]"', { shell: 'sh -eu' }))).outcome.exitCode).not.toBe(0);
      await executor.teardown();
    });

    it('kills a step that passes its timeout and says so', async () => {
      const { executor } = await started();
      const ran = await run(executor, plannedStep('echo before\nsleep 30\necho after', { timeoutMs: 300 }));
      expect(ran.outcome.reason).toBe('timeout');
      expect(ran.stdout).toBe('before\n');
      expect(ran.ms).toBeLessThan(5000);
      await executor.teardown();
    });

    it('on cancel, stops the whole tree within 5 s, even a child that ignores SIGTERM and its background grandchild', async () => {
      const { executor, workspace } = await started();
      const abort = new AbortController();
      const step = plannedStep([
        'echo $$ > main.pid',
        `sh -c 'trap "" TERM; sleep 1000 & echo $! > grandchild.pid; while :; do echo beat >> beat.txt; sleep 0.1; done' &`,
        'echo $! > child.pid',
        'wait',
      ].join('\n'));
      const running = run(executor, step, {}, abort.signal);
      expect(await waitFor(() => existsSync(join(workspace, 'grandchild.pid')) && existsSync(join(workspace, 'beat.txt')), 5000)).toBe(true);
      const stoppedAt = Date.now();
      abort.abort();
      const ran = await running;
      expect(ran.outcome.reason).toBe('cancelled');
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      const size = (await stat(join(workspace, 'beat.txt'))).size;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await stat(join(workspace, 'beat.txt'))).size).toBe(size);
      if (options.hostPids) {
        for (const file of ['main.pid', 'child.pid', 'grandchild.pid']) {
          const pid = await readPid(workspace, file);
          expect(await waitFor(() => !isAlive(pid), Math.max(0, 5000 - (Date.now() - stoppedAt))), `${file} ${pid} gone`).toBe(true);
        }
      }
      await executor.teardown();
    });

    it('does not start a step whose signal is already aborted', async () => {
      const { executor, workspace } = await started();
      const abort = new AbortController();
      abort.abort();
      const ran = await run(executor, plannedStep('touch ran.txt'), {}, abort.signal);
      expect(ran.outcome).toMatchObject({ reason: 'cancelled' });
      expect(existsSync(join(workspace, 'ran.txt'))).toBe(false);
      await executor.teardown();
    });

    it('ends a step whose background process keeps its output open after the script exited', async () => {
      const { executor, workspace } = await started();
      const ran = await run(executor, plannedStep('sleep 1000 &\necho $! > bg.pid\necho done'));
      expect(ran.outcome.exitCode).toBe(0);
      expect(ran.stdout).toBe('done\n');
      expect(ran.ms).toBeLessThan(5000);
      if (options.hostPids) expect(await waitFor(async () => !isAlive(await readPid(workspace, 'bg.pid')), 5000)).toBe(true);
      await executor.teardown();
    });

    it('keeps a quiet background process for later steps and stops it at teardown', async () => {
      const { executor, workspace } = await started();
      const ran = await run(executor, plannedStep('sleep 1000 >/dev/null 2>&1 &\necho $! > bg.pid'));
      expect(ran.outcome.exitCode).toBe(0);
      expect(ran.ms).toBeLessThan(1000);
      const later = await run(executor, plannedStep('kill -0 "$(cat bg.pid)" && echo alive'));
      expect(later.stdout).toBe('alive\n');
      await executor.teardown();
      if (options.hostPids) expect(isAlive(await readPid(workspace, 'bg.pid'))).toBe(false);
    });

    it('can be torn down twice', async () => {
      const { executor } = await started();
      await run(executor, plannedStep('true'));
      await executor.teardown();
      await expect(executor.teardown()).resolves.toBeUndefined();
    });
  });
}
