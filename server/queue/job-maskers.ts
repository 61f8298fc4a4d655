// The server's second masking pass: each running job attempt's secret values, in memory only.
import { createMasker, type Masker } from '../../shared/secrets/masker.js';

export interface JobMaskersOptions {
  /** The values a job attempt gets, read again from the store when none were remembered (a server restart). */
  valuesOf(jobId: number): readonly string[];
  /** At most this many attempts are remembered; the oldest goes first. Default 4096. */
  max?: number;
}

/**
 * Masks a chunk's lines with the values the attempt's assignment carried, before they are
 * stored or published: defence in depth behind the agent's own masking. It knows only the
 * job's secrets; a `::add-mask::` value never reaches the server (the agent drops that line
 * and masks the value itself). Values live here in clear, in memory only, never on disk.
 */
export interface JobMaskers {
  /** Remembers the values sent to a job attempt (at assignment). */
  remember(jobId: number, attempt: number, values: readonly string[]): void;
  /** The attempt's masker: the remembered one, or one made from `valuesOf`. */
  maskerFor(jobId: number, attempt: number): Masker;
  /** The job ended: its values are forgotten (a late chunk reads them again). */
  forget(jobId: number): void;
}

export function createJobMaskers(o: JobMaskersOptions): JobMaskers {
  const max = o.max ?? 4096;
  // By job, then attempt: `forget` runs for every job that ends, and must not walk them all.
  const byJob = new Map<number, Map<number, Masker>>();
  let size = 0;
  const keep = (jobId: number, attempt: number, masker: Masker) => {
    if (size >= max) {
      const [oldest, attempts] = byJob.entries().next().value!;
      size -= attempts.size;
      byJob.delete(oldest);
    }
    let attempts = byJob.get(jobId);
    if (!attempts) byJob.set(jobId, (attempts = new Map()));
    if (!attempts.has(attempt)) size++;
    attempts.set(attempt, masker);
    return masker;
  };
  return {
    remember: (jobId, attempt, values) => void keep(jobId, attempt, createMasker(values)),
    maskerFor: (jobId, attempt) => byJob.get(jobId)?.get(attempt) ?? keep(jobId, attempt, createMasker(o.valuesOf(jobId))),
    forget(jobId) {
      size -= byJob.get(jobId)?.size ?? 0;
      byJob.delete(jobId);
    },
  };
}
