// The spool: log chunks the server has not acknowledged yet, on disk, for replay after reconnect.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogChunk } from './chunk.js';

export interface SpoolOptions {
  /** A folder of its own; made if missing. Files: `<job>.<attempt>.chunks` (ndjson) + `.acked`. */
  dir: string;
}

export interface SpooledJob {
  jobId: number;
  attempt: number;
  ackedSeq: number;   // -1: nothing acknowledged yet
  lastSeq: number;    // -1: nothing appended yet
}

/**
 * Chunks stay on disk, not in memory, from `append` until the server acknowledges them.
 * Acks are cumulative: `ack(…, seq)` covers every chunk up to `seq`. When all of a job's
 * chunks are acknowledged the file is emptied; after `finish` it is removed. Operations on
 * one job apply in call order. Reopening the folder (an agent restart) finds what was left,
 * as finished jobs. A torn last line (a crash mid-write) is skipped.
 */
export interface Spool {
  append(chunk: LogChunk): Promise<void>;
  ack(jobId: number, attempt: number, seq: number): Promise<void>;
  /** Unacknowledged chunks, per job in `seq` order; all jobs, or the one in `job`. */
  unacked(job?: { jobId: number; attempt: number }): AsyncIterable<LogChunk>;
  /** Jobs that still have unacknowledged chunks. */
  jobs(): SpooledJob[];
  /** No more chunks will come for this job attempt. */
  finish(jobId: number, attempt: number): Promise<void>;
}

interface Entry extends SpooledJob {
  base: string;           // path without extension
  finished: boolean;
  ackFile: boolean;       // `.acked` may exist
  queue: Promise<void>;   // serialises file operations on this job
}

const CHUNKS = /^(\d+)\.(\d+)\.chunks$/;

export async function openSpool(options: SpoolOptions): Promise<Spool> {
  await mkdir(options.dir, { recursive: true });
  const entries = new Map<string, Entry>();
  const keyOf = (jobId: number, attempt: number) => `${jobId}.${attempt}`;

  for (const name of (await readdir(options.dir)).sort()) {
    const m = CHUNKS.exec(name);
    if (!m) continue;
    const base = join(options.dir, `${m[1]}.${m[2]}`);
    let acked = await readFile(`${base}.acked`, 'utf8').then(parseSeq, () => -1);
    let last = acked;
    let first: number | null = null;
    for await (const chunk of readChunks(`${base}.chunks`)) {
      first ??= chunk.seq;
      last = Math.max(last, chunk.seq);
    }
    // The file is emptied, without an `.acked`, once everything in it is acknowledged (see
    // `ack`): chunks before its first one were acknowledged, so a replay starts from that one.
    if (first !== null) acked = Math.max(acked, first - 1);
    if (last <= acked) { // all acknowledged, and (reopened) finished: nothing left to keep
      await rm(`${base}.chunks`, { force: true });
      await rm(`${base}.acked`, { force: true });
      continue;
    }
    const entry = { jobId: Number(m[1]), attempt: Number(m[2]), ackedSeq: acked, lastSeq: last };
    entries.set(`${m[1]}.${m[2]}`, { ...entry, base, finished: true, ackFile: true, queue: Promise.resolve() });
  }

  function entryFor(jobId: number, attempt: number): Entry {
    const key = keyOf(jobId, attempt);
    let entry = entries.get(key);
    if (!entry) {
      const base = join(options.dir, key);
      entry = { jobId, attempt, ackedSeq: -1, lastSeq: -1, base, finished: false, ackFile: false, queue: Promise.resolve() };
      entries.set(key, entry);
    }
    return entry;
  }

  function enqueue(entry: Entry, op: () => Promise<void>): Promise<void> {
    const done = entry.queue.then(op);
    entry.queue = done.catch(() => undefined); // one failed write must not block the next
    return done;
  }

  // Called in the queue once everything up to lastSeq is acknowledged.
  async function compact(entry: Entry) {
    if (entry.finished) {
      entries.delete(keyOf(entry.jobId, entry.attempt));
      await removeFile(`${entry.base}.chunks`);
      if (entry.ackFile) await removeFile(`${entry.base}.acked`);
    } else {
      await truncate(`${entry.base}.chunks`).catch(() => undefined);
    }
  }

  return {
    append(chunk) {
      const entry = entryFor(chunk.jobId, chunk.attempt);
      entry.lastSeq = Math.max(entry.lastSeq, chunk.seq);
      return enqueue(entry, () => appendFile(`${entry.base}.chunks`, `${JSON.stringify(chunk)}\n`));
    },
    async ack(jobId, attempt, seq) {
      const entry = entries.get(keyOf(jobId, attempt));
      if (!entry || seq <= entry.ackedSeq) return;
      entry.ackedSeq = seq;
      await enqueue(entry, async () => {
        // An ack of every chunk appended needs no record: the file is emptied (or removed), and
        // a crash after that finds nothing to replay. Chunks appended later are all unacked.
        if (entry.ackedSeq >= entry.lastSeq) return compact(entry);
        entry.ackFile = true;
        await writeFile(`${entry.base}.acked.tmp`, String(entry.ackedSeq));
        await rename(`${entry.base}.acked.tmp`, `${entry.base}.acked`);
      });
    },
    async *unacked(job) {
      const chosen = job ? [entries.get(keyOf(job.jobId, job.attempt))] : [...entries.values()];
      for (const entry of chosen) {
        if (!entry) continue;
        await entry.queue; // appends issued before this call are on disk
        for await (const chunk of readChunks(`${entry.base}.chunks`)) {
          if (chunk.seq > entry.ackedSeq) yield chunk;
        }
      }
    },
    jobs() {
      return [...entries.values()]
        .filter((e) => e.lastSeq > e.ackedSeq)
        .map(({ jobId, attempt, ackedSeq, lastSeq }) => ({ jobId, attempt, ackedSeq, lastSeq }));
    },
    finish(jobId, attempt) {
      const entry = entries.get(keyOf(jobId, attempt));
      if (!entry) return Promise.resolve();
      entry.finished = true;
      return enqueue(entry, async () => {
        if (entry.ackedSeq >= entry.lastSeq) await compact(entry);
      });
    },
  };
}

/** Removes a file; one that is not there is fine. */
async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
}

async function* readChunks(path: string): AsyncGenerator<LogChunk> {
  const input = createReadStream(path);
  const opened = await new Promise<boolean>((resolve) => {
    input.once('open', () => resolve(true));
    input.once('error', () => resolve(false)); // no file: nothing spooled
  });
  if (!opened) return;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      const chunk = parseChunk(line);
      if (chunk) yield chunk;
    }
  } finally {
    input.destroy();
  }
}

function parseChunk(line: string): LogChunk | null {
  try {
    return JSON.parse(line) as LogChunk;
  } catch {
    return null; // a torn last line from a crash mid-write
  }
}

function parseSeq(text: string): number {
  const seq = Number.parseInt(text, 10);
  return Number.isNaN(seq) ? -1 : seq;
}
