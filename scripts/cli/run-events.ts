// The server's live events (`/api/events`) as the CLI waits on them: a wake-up each time
// one of a run's jobs, or the run itself, changes, so `--wait` reads the run only then.
import { createRequire } from 'node:module';
import type WebSocketClass from 'ws';
import type { ClientOptions } from './client.js';

// Required, not imported: see server/hub/hub.ts.
const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketClass;

export interface RunEvents {
  /** Resolves at the run's next change since the last call, or after `timeoutMs` (a lost socket only slows it down). */
  next(timeoutMs: number): Promise<void>;
  close(): void;
}

/** Listens to the run's events; resolves once the socket is open (or has failed: then `next` only times out). */
export async function watchRun(options: ClientOptions, runId: number): Promise<RunEvents> {
  const url = `${options.server.replace(/^http/, 'ws')}/api/events`;
  const ws = new WebSocket(url, options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {});
  let changed = false;
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { type: string; run?: { id: number }; job?: { run_id: number } };
    if ((event.type === 'run' && event.run?.id === runId) || (event.type === 'job' && event.job?.run_id === runId)) {
      changed = true;
      wake?.();
    }
  });
  await new Promise<void>((resolve) => {
    ws.once('open', resolve);
    ws.once('error', () => resolve());
  });
  // A socket that fails or is cut only makes `next` wait for its timeout; the run is read then.
  ws.on('error', () => {});
  return {
    async next(timeoutMs) {
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          wake = () => (clearTimeout(timer), resolve());
        });
        wake = null;
      }
      changed = false;
    },
    close: () => ws.terminate(),
  };
}
