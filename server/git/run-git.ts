// Runs the `git` binary with argument arrays (never a shell) and collects its output.
import { spawn } from 'node:child_process';
import { KilnError } from '../../shared/errors.js';

export interface RunGitOptions {
  /** Working directory; prefer `--git-dir=` in args for bare mirrors (no discovery upwards). */
  cwd?: string;
  /** Added to process.env (after the defaults below). */
  env?: Record<string, string>;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Exit codes that count as success (default [0]). */
  okCodes?: readonly number[];
  /** Kill git after this long (default: no limit). */
  timeoutMs?: number;
}

export interface GitOutput {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** A git command that failed; `message` is one line (the last meaningful line git printed). */
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

/** Environment every server-side git call gets: no prompts, stable (English) messages. */
export const GIT_BASE_ENV: Readonly<Record<string, string>> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

/** Throws `bad_input` unless `value` is usable as a ref, sha or path argument (no leading `-`, no NUL/newline). */
export function assertSafeArg(what: string, value: string): void {
  if (value === '' || value.startsWith('-') || /[\0\n\r]/.test(value)) {
    throw new KilnError('bad_input', `invalid ${what}: ${JSON.stringify(value).slice(0, 80)}`);
  }
}

/** Throws `bad_input` unless `sha` is a hex object name (4 to 64 digits). */
export function assertSha(sha: string): void {
  if (!/^[0-9a-f]{4,64}$/.test(sha)) throw new KilnError('bad_input', `invalid commit sha: ${JSON.stringify(sha).slice(0, 80)}`);
}

/** git's closing advice after a remote refused it, which says nothing of why. */
const ADVICE = new Set(['Please make sure you have the correct access rights', 'and the repository exists.']);

/**
 * The last meaningful line of git's stderr, without the `fatal: `/`error: ` prefix; when it
 * is only "Could not read from remote repository.", with the line before it that says why
 * (e.g. the SSH server's "Permission denied (publickey).").
 */
export function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !ADVICE.has(l)).map((l) => l.replace(/^(fatal|error): /, ''));
  const last = lines.at(-1) ?? '';
  if (last === 'Could not read from remote repository.' && lines.length > 1) return `${lines.at(-2)} ${last}`;
  return last;
}

/**
 * Runs `git ...args` and resolves with its output when the exit code is in `okCodes`;
 * otherwise rejects with a GitError naming the subcommand and git's last stderr line.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...process.env, ...GIT_BASE_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {}); // git may exit before reading all input; the exit code tells.
    child.on('error', (e) => reject(new GitError(`cannot run git: ${e.message}`, null, '')));
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      const exit = code ?? -1;
      if ((options.okCodes ?? [0]).includes(exit)) {
        resolve({ stdout: Buffer.concat(out), stderr, code: exit });
        return;
      }
      const sub = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c' && args[i - 1] !== '-C') ?? '';
      const why = signal ? `killed by ${signal}` : lastLine(stderr) || `exit code ${exit}`;
      reject(new GitError(`git ${sub} failed: ${why}`, code, stderr));
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Splits NUL-separated git output (from `-z`) into strings, dropping the empty tail. */
export function splitNul(buf: Buffer): string[] {
  return buf.toString('utf8').split('\0').filter((s) => s !== '');
}
