// Turns Docker's pull progress events (hundreds a second) into a few readable job log lines.

/** One JSON event of `POST /images/create`. */
export interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface PullProgress {
  onEvent(event: PullEvent): void;
  /** The closing line: how long the pull took and what it got. */
  finish(): void;
}

const TOTALS_EVERY_MS = 5000;

/**
 * Logs: one line per layer when it is done ("layer 1a2b3c done (3/7)"), the downloaded total
 * at most every 5 s while bytes flow, the digest, and a closing line with the duration.
 */
export function createPullProgress(image: string, log: (text: string) => void, now: () => number = Date.now): PullProgress {
  const startedAt = now();
  const layers = new Set<string>();
  const done = new Set<string>();
  const bytes = new Map<string, { current: number; total: number }>();
  let lastTotalsAt = startedAt;
  let digest: string | null = null;

  const totals = () => {
    let current = 0;
    let total = 0;
    for (const b of bytes.values()) {
      current += b.current;
      total += b.total;
    }
    return `${mb(current)} of ${mb(total)}`;
  };

  return {
    onEvent(event) {
      const { status = '', id } = event;
      if (status.startsWith('Digest: ')) digest = status.slice('Digest: '.length);
      if (!id || status.startsWith('Pulling from')) return;
      layers.add(id);
      if (status === 'Downloading' && event.progressDetail?.total) {
        bytes.set(id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
        if (now() - lastTotalsAt >= TOTALS_EVERY_MS) {
          lastTotalsAt = now();
          log(`pulling ${image}: downloaded ${totals()}`);
        }
      }
      if ((status === 'Pull complete' || status === 'Already exists') && !done.has(id)) {
        done.add(id);
        log(`pulling ${image}: layer ${id} ${status === 'Already exists' ? 'already here' : 'done'} (${done.size}/${layers.size})`);
      }
    },
    finish() {
      const seconds = ((now() - startedAt) / 1000).toFixed(1);
      log(`pulled ${image} in ${seconds} s${bytes.size > 0 ? `, ${totals()}` : ''}${digest ? ` (${digest})` : ''}`);
    },
  };
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}
