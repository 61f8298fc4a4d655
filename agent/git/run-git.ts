// Runs the `git` binary with argument arrays (never a shell); the agent's own copy of the server's.
import { spawn } from 'node:child_process';
import { KilnError } from '../../shared/errors.js';

export interface RunGitOptions {
  cwd?: string;
  /** Added to process.env after GIT_BASE_ENV. */
  env?: Record<string, string>;
  /** Exit codes that count as success (default [0]). */
  okCodes?: readonly number[];
  /** Kill git after this long (default: no limit). */
  timeoutMs?: number;
}

export interface GitOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A git command that failed; `message` is one line and never contains the environment. */
export class GitError extends KilnError {
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(message: string, exitCode: number | null, stderr: string) {
    super('internal', message);
    this.name = 'GitError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** No prompts of any kind (a missing token must fail, not hang) and English messages to match on. */
export const GIT_BASE_ENV: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', LC_ALL: 'C',
};

/** The last non-empty line of git's stderr, without the `fatal: `/`error: ` prefix. */
export function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').replace(/^(fatal|error): /, '');
}

/**
 * Runs `git ...args`; resolves when the exit code is in `okCodes`, else rejects with a
 * GitError naming the subcommand and git's last stderr line.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...process.env, ...GIT_BASE_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.on('error', (e) => reject(new GitError(`cannot run git: ${e.message}`, null, '')));
    child.on('close', (code, signal) => {
      const exit = code ?? -1;
      if ((options.okCodes ?? [0]).includes(exit)) return resolve({ stdout, stderr, code: exit });
      const sub = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c' && args[i - 1] !== '-C') ?? '';
      const why = signal ? `killed by ${signal}` : lastLine(stderr) || `exit code ${exit}`;
      reject(new GitError(`git ${sub} failed: ${why}`, code, stderr));
    });
  });
}
