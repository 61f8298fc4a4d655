// What the agent owes the server for each job (step events, log chunks, done), delivered in
// order over whatever connection there is, kept until acknowledged, replayed after a reconnect.
import type { Logger } from 'pino';
import type { AgentMessage } from '../../shared/protocol/messages.js';
import type { LogChunk } from '../logs/chunk.js';
import type { Spool } from '../logs/spool.js';
import type { DoneMessage, HeldJob, JobRecords, StepMessage } from './job-records.js';
import type { LeftOver } from './recovery.js';

export type Send = (message: AgentMessage) => boolean;

export interface OutboxOptions {
  spool: Spool;
  records: JobRecords;
  logger: Logger;
  /** A job's results were all acknowledged (or given up): a drain may be able to finish. */
  onSettled?(): void;
}

/** One job attempt's outgoing side; the job runner calls these in the order things happened. */
export interface JobOutbox {
  step(message: Omit<StepMessage, 'type' | 'jobId' | 'token'>): void;
  /** The JobLog's `onChunk`: spooled to disk, sent when connected. */
  chunk(chunk: LogChunk): void;
  /** After the log's last chunk: records the done (to disk too) and sends it after that chunk. */
  finish(result: Pick<DoneMessage, 'status' | 'exitCode' | 'reason' | 'at' | 'refused'>): Promise<void>;
}

/**
 * Everything sent goes through one queue, so that on any connection a job's chunks go out in
 * `seq` order, each at most once per connection, and its `done` after its last chunk. Chunks
 * live on disk (the spool) until acknowledged; `online` replays, per job: its step events, the
 * chunks past the last ack, then its done. Acks are cumulative per job attempt.
 */
export interface Outbox {
  begin(job: HeldJob): Promise<JobOutbox>;
  /** Takes over what an earlier agent process left (see findLeftOvers); before the first `online`. */
  adopt(leftOvers: LeftOver[]): void;
  ack(jobId: number, attempt: number, seq: number): void;
  doneAck(jobId: number, attempt: number): void;
  /** A session began (after `welcome`): replay, then send live through `send`. */
  online(send: Send): void;
  offline(): void;
  /** For `hello`: attempts this agent runs or still owes a result for. */
  held(): HeldJob[];
  /** Job attempts not settled yet. */
  readonly pending: number;
  /**
   * Of those, the ones whose results are not all on disk yet (a job still running, a done not
   * yet recorded, a failed write). Zero: every undelivered result survives an exit, and the
   * next start of the agent on this work folder delivers it (see findLeftOvers).
   */
  readonly unspooled: number;
}

interface Entry extends HeldJob {
  steps: StepMessage[];
  stepsSent: number;
  lastSeq: number;    // the last chunk appended (-1: none)
  sentSeq: number;    // the last chunk sent on the current connection
  ackedSeq: number;
  done: DoneMessage | null;
  doneSent: boolean;
  orphan: boolean;    // left by a process that died mid-job: no done will ever come
  onDisk: boolean;    // the done record and every chunk are written: safe across an exit
  diskFailed: boolean;
  startRecord: Promise<void> | null; // the record without a done, written with the first chunk
}

export function createOutbox(o: OutboxOptions): Outbox {
  const entries = new Map<string, Entry>();
  const keyOf = (jobId: number, attempt: number) => `${jobId}.${attempt}`;
  let sender: Send | null = null;
  let epoch = 0; // counts connections: a replay queued for one never sends on the next
  let tail = Promise.resolve();
  const enqueue = (task: () => Promise<void> | void) => {
    tail = tail.then(task).catch((err: unknown) => o.logger.error({ err }, 'outbox delivery failed'));
  };
  const send = (message: AgentMessage) => sender !== null && sender(message);
  const logMessage = (e: Entry, c: LogChunk): AgentMessage =>
    ({ type: 'log', jobId: e.jobId, token: e.token, attempt: e.attempt, seq: c.seq, lines: c.lines });

  const flushSteps = (e: Entry) => {
    while (e.stepsSent < e.steps.length && send(e.steps[e.stepsSent]!)) e.stepsSent++;
  };
  // Sends, from disk, the chunks after sentSeq; stops at the first that cannot go out.
  const catchUp = async (e: Entry) => {
    if (e.sentSeq >= e.lastSeq || sender === null) return;
    for await (const chunk of o.spool.unacked({ jobId: e.jobId, attempt: e.attempt })) {
      if (chunk.seq <= e.sentSeq) continue;
      if (chunk.seq !== e.sentSeq + 1 || !send(logMessage(e, chunk))) return;
      e.sentSeq = chunk.seq;
    }
  };
  const sendDone = async (e: Entry) => {
    await catchUp(e);
    if (e.done && !e.doneSent && e.sentSeq >= e.lastSeq) e.doneSent = send(e.done);
  };
  const settle = (e: Entry) => {
    entries.delete(keyOf(e.jobId, e.attempt));
    void o.records.remove(e.jobId, e.attempt).catch((err: unknown) => o.logger.warn({ err, jobId: e.jobId }, 'cannot remove job record'));
    if (e.lastSeq >= 0) void o.spool.ack(e.jobId, e.attempt, e.lastSeq).then(() => o.spool.finish(e.jobId, e.attempt), () => undefined);
    o.onSettled?.();
  };
  const addEntry = (job: HeldJob, done: DoneMessage | null, lastSeq = -1, ackedSeq = -1): Entry => {
    const e: Entry = { ...job, steps: [], stepsSent: 0, lastSeq, sentSeq: ackedSeq, ackedSeq, done, doneSent: false, orphan: false, onDisk: false, diskFailed: false, startRecord: null };
    entries.set(keyOf(job.jobId, job.attempt), e);
    return e;
  };

  const writeRecord = (e: Entry, done: DoneMessage | null) => o.records.write({ jobId: e.jobId, attempt: e.attempt, token: e.token, done })
    .then(() => true, (err: unknown) => {
      o.logger.warn({ err, jobId: e.jobId }, 'cannot write job record');
      return false;
    });
  // Why with the first chunk, not at the start: the record is what lets a later process replay
  // spooled chunks (it holds the lease token), and without chunks there is nothing to replay.
  // Why a turn later: a job whose first chunk is its last (most short jobs) has its done
  // recorded at once, and that record serves; the start record is then never written.
  const recordStart = (e: Entry) => {
    e.startRecord ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => { if (e.done === null) await writeRecord(e, null); });
  };

  return {
    async begin(job) {
      const e = addEntry(job, null);
      return {
        step(step) {
          e.steps.push({ type: 'step', jobId: e.jobId, token: e.token, ...step });
          enqueue(() => flushSteps(e));
        },
        chunk(chunk) {
          recordStart(e);
          e.lastSeq = chunk.seq;
          const appended = o.spool.append(chunk).catch((err: unknown) => {
            e.diskFailed = true;
            o.logger.error({ err, jobId: e.jobId, seq: chunk.seq }, 'cannot spool log chunk');
          });
          enqueue(async () => {
            // Live, from memory, while the append goes on: an ack that comes back first is applied
            // after it (the spool keeps a job's operations in order), and a replay reads the disk
            // only once the appends issued before it are done.
            if (e.sentSeq === chunk.seq - 1) {
              if (send(logMessage(e, chunk))) e.sentSeq = chunk.seq;
            } else {
              await appended;
              await catchUp(e);
            }
          });
        },
        async finish(result) {
          // The schema caps a reason at 1000 characters: a longer one would be refused on every replay.
          const reason = result.reason === null ? null : result.reason.slice(0, 1000);
          e.done = { type: 'done', jobId: e.jobId, token: e.token, attempt: e.attempt, lastSeq: e.lastSeq, ...result, reason };
          await e.startRecord; // one write to the record file at a time (they share its temp file)
          const recorded = writeRecord(e, e.done);
          const spooled = o.spool.finish(e.jobId, e.attempt); // after the job's appends: they are on disk (or failed) then
          // The done goes once it is on disk, while the spool finishes; no onSettled: the job's
          // runner still cleans up, and its end re-checks a drain.
          const onDisk = await recorded;
          enqueue(() => sendDone(e));
          await spooled;
          e.onDisk = onDisk && !e.diskFailed;
        },
      };
    },
    adopt(leftOvers) {
      for (const left of leftOvers) Object.assign(addEntry(left, left.done, left.lastSeq, left.ackedSeq), { orphan: left.orphan, onDisk: true });
    },
    ack(jobId, attempt, seq) {
      const e = entries.get(keyOf(jobId, attempt));
      if (!e || seq <= e.ackedSeq) return;
      e.ackedSeq = seq;
      void o.spool.ack(jobId, attempt, seq).catch((err: unknown) => o.logger.warn({ err, jobId }, 'cannot record ack'));
      if (e.orphan && e.ackedSeq >= e.lastSeq) settle(e);
    },
    doneAck(jobId, attempt) {
      const e = entries.get(keyOf(jobId, attempt));
      if (e?.done) settle(e);
    },
    online(next) {
      sender = null; // until the replay below runs, nothing is sent on the new connection
      const mine = ++epoch;
      enqueue(async () => {
        if (mine !== epoch) return;
        sender = next;
        for (const e of entries.values()) {
          e.stepsSent = 0;
          e.sentSeq = e.ackedSeq;
          e.doneSent = false;
        }
        for (const e of [...entries.values()]) {
          flushSteps(e);
          await sendDone(e);
          if (e.orphan && e.ackedSeq >= e.lastSeq) settle(e);
        }
      });
    },
    offline() {
      epoch++;
      sender = null;
    },
    held: () => [...entries.values()].filter((e) => !e.orphan).map(({ jobId, attempt, token }) => ({ jobId, attempt, token })),
    get pending() {
      return entries.size;
    },
    get unspooled() {
      let n = 0;
      for (const e of entries.values()) if (!e.onDisk) n++;
      return n;
    },
  };
}
