// ShellExecutor: runs each step as a script file with the step's shell, as a host process group.
import { randomBytes } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, ExecutorSetup } from './executor.js';
import { stopGroup } from './process-group.js';
import { runProcess } from './run-process.js';

export const DEFAULT_SHELL = 'sh -e';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ShellExecutorOptions {
  /** Variables every step starts from; default only PATH. Build it with `pickBaseEnv(process.env)` (host-env.ts). */
  baseEnv?: Record<string, string>;
  /** SIGTERM → SIGKILL delay when a step is stopped; default 3000. */
  graceMs?: number;
  /** How long a step's output may stay open after its shell exited; default 1000. */
  drainMs?: number;
  /** Where the step scripts are written (`kiln-step-<random>.sh`, one per step, removed when it ends); default the OS temp folder. */
  tmpDir?: string;
}

/** `sh -e` → `['sh', '-e']`; an empty shell falls back to the default. */
export function splitShell(shell: string): [string, ...string[]] {
  const parts = shell.trim().split(/\s+/).filter(Boolean);
  return parts.length > 0 ? (parts as [string, ...string[]]) : ['sh', '-e'];
}

export function createShellExecutor(options: ShellExecutorOptions = {}): Executor {
  const baseEnv = options.baseEnv ?? { PATH: DEFAULT_PATH };
  const graceMs = options.graceMs ?? 3000;
  const drainMs = options.drainMs ?? 1000;
  const scriptDir = options.tmpDir ?? tmpdir();
  let job: ExecutorSetup | null = null;
  let jobEnv: Record<string, string> = {};
  // Every group a step led; teardown stops what they left behind (`server &` kept for later steps).
  const groups = new Set<number>();

  return {
    kind: 'shell',

    async setup(ctx) {
      await mkdir(ctx.workspace, { recursive: true });
      job = ctx;
      jobEnv = { ...baseEnv, ...ctx.env };
    },

    async runStep(step, opts) {
      if (!job) throw new Error('shell executor: runStep before setup');
      // A name nobody can guess, made exclusively (never through a link someone left) and readable by the agent's user only.
      const script = join(scriptDir, `kiln-step-${randomBytes(12).toString('base64url')}.sh`);
      await writeFile(script, step.run.endsWith('\n') ? step.run : `${step.run}\n`, { mode: 0o700, flag: 'wx' });
      const [command, ...args] = splitShell(step.shell || DEFAULT_SHELL);
      try {
        return await runProcess({
          command,
          args: [...args, script],
          cwd: step.workingDirectory ? join(job.workspace, step.workingDirectory) : job.workspace,
          env: { ...jobEnv, ...opts.env },
          timeoutMs: step.timeoutMs,
          signal: opts.signal,
          graceMs,
          drainMs,
          onOutput: opts.onOutput,
          onSpawn: (pid) => groups.add(pid),
        });
      } finally {
        await unlink(script).catch(() => undefined);
      }
    },

    async teardown() {
      const left = [...groups];
      groups.clear();
      await Promise.all(left.map((pgid) => stopGroup(pgid, graceMs)));
      job = null;
    },
  };
}
