// The shell executor: the conformance suite on host processes, and what is particular to it.
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { pickBaseEnv } from '../../../agent/executors/host-env.js';
import { createShellExecutor } from '../../../agent/executors/shell.js';
import { plannedStep } from '../../helpers/plan.js';
import { useTempDirs } from '../../helpers/tmp.js';
import { describeExecutorConformance } from './conformance.js';

describeExecutorConformance('shell', () => createShellExecutor({ baseEnv: pickBaseEnv(process.env) }), { hostPids: true });

describe('shell executor', () => {
  const tempDir = useTempDirs('kiln-shell-');
  const collect = () => {
    const chunks: Buffer[] = [];
    return { onOutput: (_: string, data: Buffer) => chunks.push(data), text: () => Buffer.concat(chunks).toString() };
  };

  it("shows steps only the agent's base variables, not the rest of its environment", async () => {
    const baseEnv = pickBaseEnv({ PATH: process.env.PATH, HOME: '/home/ci', KILN_AGENT_TOKEN: 'agent-secret' });
    const executor = createShellExecutor({ baseEnv });
    await executor.setup({ workspace: await tempDir(), env: {} });
    const out = collect();
    await executor.runStep(plannedStep('echo "$HOME [$KILN_AGENT_TOKEN]"'), { env: {}, signal: new AbortController().signal, onOutput: out.onOutput });
    expect(out.text()).toBe('/home/ci []\n');
    await executor.teardown();
  });

  it('writes step scripts outside the workspace and removes each when its step ends', async () => {
    const scripts = await tempDir();
    const workspace = await tempDir();
    const executor = createShellExecutor({ baseEnv: pickBaseEnv(process.env), tmpDir: scripts });
    await executor.setup({ workspace, env: {} });
    const out = collect();
    await executor.runStep(plannedStep('echo "$0"'), { env: {}, signal: new AbortController().signal, onOutput: out.onOutput });
    expect(out.text()).toMatch(new RegExp(`^${scripts}/kiln-step-[A-Za-z0-9_-]{16}\\.sh\\n$`));
    expect(await readdir(workspace)).toEqual([]);
    expect(await readdir(scripts)).toEqual([]);
    await executor.teardown();
  });

  it('stops gracefully first: a step that handles SIGTERM cleans up and ends before the grace period', async () => {
    const executor = createShellExecutor({ baseEnv: pickBaseEnv(process.env), graceMs: 10_000 });
    await executor.setup({ workspace: await tempDir(), env: {} });
    const abort = new AbortController();
    const out = collect();
    const script = "trap 'echo cleaning up; exit 0' TERM\necho ready\nwhile :; do sleep 0.05; done";
    const running = executor.runStep(plannedStep(script), {
      env: {},
      signal: abort.signal,
      onOutput: (stream, data) => {
        if (stream !== 'stdout') return; // the shell may note on stderr that its `sleep` was terminated
        out.onOutput(stream, data);
        if (out.text().includes('ready')) abort.abort();
      },
    });
    const t0 = Date.now();
    const outcome = await running;
    expect(outcome.reason).toBe('cancelled');
    expect(out.text()).toBe('ready\ncleaning up\n');
    expect(Date.now() - t0).toBeLessThan(5000);
    await executor.teardown();
  });

  it('reports a shell that does not exist as an executor error', async () => {
    const executor = createShellExecutor({ baseEnv: pickBaseEnv(process.env) });
    await executor.setup({ workspace: await tempDir(), env: {} });
    const outcome = await executor.runStep(plannedStep('true', { shell: 'no-such-shell-kiln -e' }), {
      env: {}, signal: new AbortController().signal, onOutput: () => undefined,
    });
    expect(outcome).toMatchObject({ exitCode: null, reason: 'error' });
    expect(outcome.message).toContain('no-such-shell-kiln');
    await executor.teardown();
  });
});
