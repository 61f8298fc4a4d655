// A small file per job attempt in the spool folder: its lease token and, once it ended, its `done`.
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentMessage } from '../../shared/protocol/messages.js';

export type DoneMessage = Extract<AgentMessage, { type: 'done' }>;
export type StepMessage = Extract<AgentMessage, { type: 'step' }>;

/** A job attempt this agent holds a lease on (`token` is the server's fencing token). */
export interface HeldJob {
  jobId: number;
  attempt: number;
  token: string;
}

export interface JobRecord extends HeldJob {
  /** Null while the job runs; the message to deliver once it ended. */
  done: DoneMessage | null;
}

/**
 * Why a file: a `done` the server has not acknowledged must survive an agent restart, and
 * chunks left in the spool can only be replayed with the lease token they were sent under.
 * Written at job start and at job end (atomically: temp file + rename), removed at `done-ack`.
 */
export interface JobRecords {
  write(record: JobRecord): Promise<void>;
  remove(jobId: number, attempt: number): Promise<void>;
  /** The records an earlier agent process left; unreadable files are skipped. */
  list(): Promise<JobRecord[]>;
}

const RECORD = /^(\d+)\.(\d+)\.job$/;

export function createJobRecords(dir: string): JobRecords {
  const path = (jobId: number, attempt: number) => join(dir, `${jobId}.${attempt}.job`);
  return {
    async write(record) {
      const file = path(record.jobId, record.attempt);
      await writeFile(`${file}.tmp`, JSON.stringify(record));
      await rename(`${file}.tmp`, file);
    },
    async remove(jobId, attempt) {
      await unlink(path(jobId, attempt)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    },
    async list() {
      const records: JobRecord[] = [];
      for (const name of (await readdir(dir).catch(() => [])).sort()) {
        if (!RECORD.test(name)) continue;
        try {
          const record = JSON.parse(await readFile(join(dir, name), 'utf8')) as JobRecord;
          if (Number.isInteger(record.jobId) && typeof record.token === 'string') records.push(record);
        } catch {
          // a torn write from a crash: nothing to deliver
        }
      }
      return records;
    },
  };
}
