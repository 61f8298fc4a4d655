// A job's log as text/plain: everything stored so far, and with `follow` the new lines as
// they arrive, until the job ends. Lines are numbered by the store, so nothing is sent twice.
import type { EventBus, KilnEvent } from '../events.js';
import { isFinal } from '../../shared/status.js';
import { shownAttempt, type Store } from '../store/index.js';

export interface LogStreamOptions {
  store: Store;
  bus: EventBus;
  jobId: number;
  attempt?: number;
  follow: boolean;
}

export function logStream({ store, bus, jobId, attempt: asked, follow }: LogStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | null = null;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const attempt = shownAttempt(store.jobs.getJob(jobId), asked);
      // Subscribe before reading what is stored: lines that arrive in between are buffered,
      // then trimmed by line number.
      const pending: KilnEvent[] = [];
      let live = false;
      let nextLine = 0;
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe?.();
        controller.close();
      };
      const onEvent = (event: KilnEvent) => {
        if (!live) return void pending.push(event);
        if (event.type === 'log' && event.jobId === jobId && event.attempt === attempt) {
          const skip = Math.max(0, nextLine - event.firstLine);
          const lines = event.lines.slice(skip);
          if (lines.length > 0) controller.enqueue(encoder.encode(lines.map((l) => `${l.text}\n`).join('')));
          nextLine = Math.max(nextLine, event.firstLine + event.lines.length);
        } else if (event.type === 'job' && event.job.id === jobId && (isFinal(event.job.status) || event.job.attempt > attempt)) {
          close();
        }
      };
      if (follow) unsubscribe = bus.subscribe(onEvent);
      for (const chunk of store.logs.readLog(jobId, attempt)) {
        controller.enqueue(encoder.encode(chunk.data));
        nextLine = chunk.firstLine + chunk.lines;
      }
      const job = store.jobs.getJob(jobId);
      if (!follow || !job || isFinal(job.status) || job.attempt > attempt) return close();
      live = true;
      for (const event of pending.splice(0)) onEvent(event);
    },
    cancel() {
      unsubscribe?.();
    },
  });
}
