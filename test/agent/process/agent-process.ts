// A real `kiln agent` child process (the built CLI), with its stderr kept for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const KILN = join(import.meta.dirname, '../../../dist/bundle/kiln.js');

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  /** The pino lines of stderr, parsed. */
  logs(): Array<{ level: number; msg: string; [key: string]: unknown }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills it (SIGKILL) if it still runs; for afterEach. */
  kill(): Promise<void>;
}

const running = new Set<AgentProcess>();

export function startAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KILN_')));
  const child = spawn(process.execPath, [KILN, 'agent', ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const agent: AgentProcess = {
    child,
    stderr: () => stderr,
    logs: () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string }),
    exited,
    async kill() {
      running.delete(agent);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(agent);
  return agent;
}

export async function killAgents(): Promise<void> {
  await Promise.all([...running].map((a) => a.kill()));
}
