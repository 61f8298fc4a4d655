// Validated pipelines by the blob id of their pipeline.yml: a commit that reuses a blob (most
// do) costs no YAML parse or validation, and 2,000 triggers of one new blob validate it once.
import type { ValidationResult } from '../../shared/pipeline/index.js';
import type { Plan } from '../../shared/pipeline/types.js';
import { createLru } from '../git/lru.js';

export const PIPELINE_FILE = 'pipeline.yml';

/** A pipeline.yml's outcome: its plan, or every problem, one `pipeline.yml:LINE:COL: …` per line. */
export type PlanOutcome = { ok: true; plan: Plan } | { ok: false; error: string };

export interface PlanCacheOptions {
  /** Blobs remembered (default 256). */
  maxEntries?: number;
  /** Default: the pipeline model's validatePipeline. */
  validate?(text: string): ValidationResult;
}

export interface PlanCache {
  /**
   * The outcome for blob `oid`, calling `read` for its text only when it is not known yet.
   * Callers asking for one blob at once share one read and one validation. A failed read is
   * not remembered.
   */
  planOf(oid: string, read: () => Promise<string>): Promise<PlanOutcome>;
}

// Why loaded on first use: the pipeline model (zod schema, yaml, cron) is a tenth of a second
// of the server's start, and nothing needs it before the first pipeline.yml is read.
const loadModel = () => import('../../shared/pipeline/index.js');

export function createPlanCache(options: PlanCacheOptions = {}): PlanCache {
  const outcomes = createLru<string, Promise<PlanOutcome>>(options.maxEntries ?? 256);
  return {
    planOf(oid, read) {
      const known = outcomes.get(oid);
      if (known) return known;
      const outcome = Promise.all([read(), loadModel()]).then(([text, model]): PlanOutcome => {
        const result = (options.validate ?? model.validatePipeline)(text);
        const { formatProblem } = model;
        return result.ok ? { ok: true, plan: result.plan } : { ok: false, error: result.problems.map((p) => formatProblem(PIPELINE_FILE, p)).join('\n') };
      });
      outcomes.set(oid, outcome);
      outcome.catch(() => outcomes.delete(oid));
      return outcome;
    },
  };
}
