// Polls a remote repo: every interval (jittered by ±10%, so repos added together do not poll
// together), `git ls-remote` first, and a sync (fetch and runs) only when a branch or tag moved.
// A remote that fails (DNS, 401, a timeout) is retried with back-off, doubling up to 30 minutes,
// and never holds up another repo: each has its own timer.
import type { RefTable } from '../git/ref-table.js';

export interface PollerOptions {
  /** The interval now (it may change with the repo's settings). */
  intervalMs(): number;
  /** The remote's branches and tags: ref → stored object. */
  lsRemote(): Promise<Map<string, string>>;
  /** The mirror's refs. */
  mirrorRefs(): Promise<RefTable>;
  sync(): Promise<void>;
  /** After each poll: null when it went well, else what failed. */
  onResult(error: unknown): void;
  random?: () => number;
}

export interface Poller {
  close(): void;
}

const MAX_BACKOFF_MS = 30 * 60_000;

/** Whether the mirror has exactly the remote's branches and tags. */
export function sameAsRemote(remote: ReadonlyMap<string, string>, mirror: RefTable): boolean {
  let mirrored = 0;
  for (const [ref, target] of mirror) {
    if (!ref.startsWith('refs/heads/') && !ref.startsWith('refs/tags/')) continue;
    mirrored++;
    if (remote.get(ref) !== target.oid) return false;
  }
  return mirrored === remote.size;
}

export function startPoller(options: PollerOptions): Poller {
  const random = options.random ?? Math.random;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    const base = options.intervalMs();
    const delay = failures === 0 ? base : Math.min(base * 2 ** failures, Math.max(base, MAX_BACKOFF_MS));
    timer = setTimeout(poll, Math.round(delay * (0.9 + 0.2 * random())));
    timer.unref();
  };
  const poll = async () => {
    try {
      const remote = await options.lsRemote();
      if (!sameAsRemote(remote, await options.mirrorRefs())) await options.sync();
      failures = 0;
      options.onResult(null);
    } catch (error) {
      failures++;
      options.onResult(error);
    }
    schedule();
  };
  schedule();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
