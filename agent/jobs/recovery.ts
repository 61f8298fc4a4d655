// What an earlier agent process left in the spool folder, sorted into results still to deliver.
import type { Logger } from 'pino';
import type { Spool } from '../logs/spool.js';
import type { DoneMessage, HeldJob, JobRecords } from './job-records.js';

export interface LeftOver extends HeldJob {
  done: DoneMessage | null;
  lastSeq: number;
  ackedSeq: number;
  /** The process died while the job ran: its chunks go out, but no done ever will (the lease runs out). */
  orphan: boolean;
}

/**
 * Pairs job records with spooled chunks. A record with a done is delivered; one without (a
 * crash mid-job) delivers its chunks only; chunks without a record are dropped, since without
 * the lease token the server would refuse them. Removes what there is nothing left of.
 */
export async function findLeftOvers(spool: Spool, records: JobRecords, logger: Logger): Promise<LeftOver[]> {
  const keyOf = (j: { jobId: number; attempt: number }) => `${j.jobId}.${j.attempt}`;
  const spooled = new Map(spool.jobs().map((j) => [keyOf(j), j]));
  const found: LeftOver[] = [];
  for (const record of await records.list()) {
    const left = spooled.get(keyOf(record));
    spooled.delete(keyOf(record));
    if (!left && !record.done) {
      await records.remove(record.jobId, record.attempt);
      continue;
    }
    const lastSeq = Math.max(left?.lastSeq ?? -1, record.done?.lastSeq ?? -1);
    const { jobId, attempt, token, done } = record;
    found.push({ jobId, attempt, token, done, lastSeq, ackedSeq: left?.ackedSeq ?? lastSeq, orphan: done === null });
    if (!left) await spool.finish(jobId, attempt);
  }
  for (const lost of spooled.values()) {
    logger.warn({ jobId: lost.jobId, attempt: lost.attempt }, 'spooled log chunks without a job record; dropped');
    await spool.ack(lost.jobId, lost.attempt, lost.lastSeq);
  }
  if (found.length > 0) logger.info({ jobs: found.length }, 'results of an earlier agent process to deliver');
  return found;
}
