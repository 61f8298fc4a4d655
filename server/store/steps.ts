// Steps: the agent reports each step's progress under the job's lease; steps reset on a retry.

import { canTransition, isFinal, type Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';
import { toStep, type StepRow } from './job-rows.js';
import type { Step } from './types.js';

/** Step changes come from the agent that holds the job's lease: a stale token changes nothing. */
export interface StepStore {
  listSteps(jobId: number): Step[];
  getStep(jobId: number, idx: number): Step | null;
  /**
   * Moves step `idx` of the job to `to` (queued → running | skipped, running → final) when
   * `token` is the job's live lease token. False: illegal transition, unknown step, or lease lost.
   */
  setStepStatus(jobId: number, token: string, idx: number, to: Status, exitCode: number | null, now: number): boolean;
}

export function createStepStore(db: Sqlite): StepStore {
  const stmt = {
    list: db.prepare<[number], StepRow>('SELECT * FROM steps WHERE job_id = ? ORDER BY idx'),
    one: db.prepare<[number, number], StepRow>('SELECT * FROM steps WHERE job_id = ? AND idx = ?'),
    fenced: db.prepare<[number, number, string], { status: Status }>(
      `SELECT s.status FROM steps s JOIN leases l ON l.job_id = s.job_id
       WHERE s.job_id = ? AND s.idx = ? AND l.token = ?`,
    ),
    update: db.prepare(
      `UPDATE steps SET status = @to, exit_code = coalesce(@exitCode, exit_code),
         started_at = CASE WHEN @to = 'running' THEN @now ELSE started_at END,
         finished_at = CASE WHEN @final THEN @now ELSE NULL END
       WHERE job_id = @jobId AND idx = @idx AND status = @from`,
    ),
  };

  const set = db.transaction(
    (jobId: number, token: string, idx: number, to: Status, exitCode: number | null, now: number): boolean => {
      const step = stmt.fenced.get(jobId, idx, token);
      if (!step || !canTransition(step.status, to) || to === 'queued') return false;
      const final = isFinal(to) ? 1 : 0;
      return stmt.update.run({ jobId, idx, from: step.status, to, exitCode, now, final }).changes === 1;
    },
  );

  return {
    listSteps: (jobId) => stmt.list.all(jobId).map(toStep),
    getStep: (jobId, idx) => {
      const row = stmt.one.get(jobId, idx);
      return row ? toStep(row) : null;
    },
    setStepStatus: (jobId, token, idx, to, exitCode, now) => set.immediate(jobId, token, idx, to, exitCode, now),
  };
}
