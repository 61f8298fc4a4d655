// A job's log as text/plain: everything stored so far, read a page of chunks at a time as the
// client takes it, and with `follow` the new lines as they arrive, until the job ends. Lines
// are numbered by the store, so nothing is sent twice.
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

/** Chunks read per pull: about 2 MiB of text at the agent's 64 KiB chunks, never the whole log. */
const PAGE_CHUNKS = 32;

export function logStream({ store, bus, jobId, attempt: asked, follow }: LogStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const attempt = shownAttempt(store.jobs.getJob(jobId), asked);
  // Subscribed before the first read: this job's events that arrive while stored pages are
  // read wait here (null once live), then are trimmed by line number.
  let pending: KilnEvent[] | null = [];
  let nextSeq = 0;
  let nextLine = 0;
  let unsubscribe: (() => void) | null = null;
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    controller.close();
  };
  const onEvent = (event: KilnEvent) => {
    const mine = (event.type === 'log' && event.jobId === jobId && event.attempt === attempt) || (event.type === 'job' && event.job.id === jobId);
    if (!mine || closed) return;
    if (pending) return void pending.push(event);
    if (event.type === 'log') {
      const lines = event.lines.slice(Math.max(0, nextLine - event.firstLine));
      if (lines.length > 0) controller.enqueue(encoder.encode(lines.map((l) => `${l.text}\n`).join('')));
      nextLine = Math.max(nextLine, event.firstLine + event.lines.length);
    } else if (event.type === 'job' && (isFinal(event.job.status) || event.job.attempt > attempt)) {
      close();
    }
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (follow) unsubscribe = bus.subscribe(onEvent);
    },
    pull() {
      if (!pending || closed) return; // live: events write, the store is not read again
      const page = store.logs.readLogText(jobId, attempt, nextSeq, PAGE_CHUNKS);
      for (const chunk of page) {
        if (chunk.data !== '') controller.enqueue(encoder.encode(chunk.data));
        nextSeq = chunk.seq + 1;
        nextLine = chunk.firstLine + chunk.lines;
      }
      if (page.length === PAGE_CHUNKS) return; // more stored: the next pull reads on
      const job = store.jobs.getJob(jobId);
      if (!follow || !job || isFinal(job.status) || job.attempt > attempt) return close();
      const waiting = pending;
      pending = null;
      for (const event of waiting) onEvent(event);
    },
    cancel() {
      closed = true;
      unsubscribe?.();
    },
  });
}
