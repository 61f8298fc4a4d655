// A long-lived `git cat-file --batch-command` per mirror: object lookups go down one pipe and
// are answered in order, so reading a commit or a file costs no new process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { KilnError } from '../../shared/errors.js';
import { createBatchParser, type BatchKind, type BatchReply, type GitObject, type ObjectInfo } from './batch-replies.js';
import { assertSafeArg, GIT_BASE_ENV, GitError, lastLine } from './run-git.js';

export type { GitObject, ObjectInfo } from './batch-replies.js';

export interface ObjectReaderOptions {
  gitDir: string;
  /** End the git process after this long without a request (default 30 s); the next request starts another. */
  idleMs?: number;
}

/**
 * Object lookups in one repository. `name` is anything `git cat-file` takes: `<sha>`,
 * `<sha>^{commit}`, `<sha>:<path>`. Requests are answered in the order they were made; when
 * git dies, the requests it had not answered reject with a GitError and the next request
 * starts a new process.
 */
export interface ObjectReader {
  /** Type and size of the object, without its content; null when the repository has none. */
  info(name: string): Promise<ObjectInfo | null>;
  /** The object with its content; null when the repository has none. */
  contents(name: string): Promise<GitObject | null>;
  /** The pid of the git process running now, or null (for tests and diagnostics). */
  readonly pid: number | null;
  /** Lets git answer what it was asked, then ends it; later requests reject. Safe to call twice. */
  close(): Promise<void>;
}

interface Request {
  kind: BatchKind;
  resolve(reply: BatchReply): void;
  reject(error: Error): void;
}

interface Session {
  child: ChildProcessWithoutNullStreams;
  queue: Request[];
  stderr: string;
  ended: Promise<void>;
}

export function createObjectReader({ gitDir, idleMs = 30_000 }: ObjectReaderOptions): ObjectReader {
  let session: Session | null = null;
  let idleTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const start = (): Session => {
    const child = spawn('git', [`--git-dir=${gitDir}`, 'cat-file', '--batch-command'], {
      env: { ...process.env, ...GIT_BASE_ENV }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let done!: () => void;
    const s: Session = { child, queue: [], stderr: '', ended: new Promise((resolve) => (done = resolve)) };
    const parser = createBatchParser(() => s.queue[0]?.kind, (reply) => {
      s.queue.shift()?.resolve(reply);
      if (s.queue.length === 0) idle(s);
    });
    child.stdout.on('data', (chunk: Buffer) => parser.feed(chunk));
    child.stderr.on('data', (chunk: Buffer) => (s.stderr = (s.stderr + chunk.toString('utf8')).slice(-4096)));
    child.stdin.on('error', () => {}); // git died: 'close' below rejects what it had not answered
    let failed = false;
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      if (session === s) session = null;
      const error = new GitError(`git cat-file failed: ${why}`, child.exitCode, s.stderr);
      for (const request of s.queue.splice(0)) request.reject(error);
      done();
    };
    child.on('error', (e) => fail(`cannot run git: ${e.message}`));
    child.on('close', (code, signal) => fail(signal ? `killed by ${signal}` : lastLine(s.stderr) || `exit code ${code}`));
    return s;
  };

  // Why unref while idle: a reader nobody asks anything must not keep a process (or a test) alive.
  const hold = (s: Session, busy: boolean) => {
    // (the pipes are net.Sockets, which have ref/unref; the stream types do not say so)
    for (const handle of [s.child, s.child.stdin, s.child.stdout, s.child.stderr] as unknown as Array<{ ref?(): void; unref?(): void }>) {
      if (busy) handle.ref?.();
      else handle.unref?.();
    }
  };

  const idle = (s: Session) => {
    hold(s, false);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (session === s && s.queue.length === 0) end(s);
    }, idleMs);
    idleTimer.unref();
  };

  const end = (s: Session) => {
    if (session === s) session = null;
    s.child.stdin.end(); // git answers what it has been sent, then exits on end of input
  };

  const request = (kind: BatchKind, name: string): Promise<BatchReply> => {
    if (closed) return Promise.reject(new KilnError('internal', 'the object reader is closed'));
    try {
      assertSafeArg('object name', name);
    } catch (error) {
      return Promise.reject(error);
    }
    clearTimeout(idleTimer);
    const s = (session ??= start());
    if (s.queue.length === 0) hold(s, true);
    return new Promise((resolve, reject) => {
      s.queue.push({ kind, resolve, reject });
      s.child.stdin.write(`${kind} ${name}\n`);
    });
  };

  return {
    info: (name) => request('info', name) as Promise<ObjectInfo | null>,
    contents: (name) => request('contents', name) as Promise<GitObject | null>,
    get pid() {
      return session?.child.pid ?? null;
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      const s = session;
      if (!s) return;
      end(s);
      hold(s, true);
      const kill = setTimeout(() => s.child.kill('SIGKILL'), 5000);
      await s.ended;
      clearTimeout(kill);
    },
  };
}
