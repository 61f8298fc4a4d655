// `--wait` of `kiln trigger`, `rerun`, `retry` and `approve`: follows a run's current attempt to
// its end, job by job, and turns its outcome into the exit code.
import { duration, FINAL, getJson, request, type ClientOptions, type RunJson } from './client.js';
import { runName, runUrl } from './refs.js';
import { watchRun } from './run-events.js';

/**
 * Follows a run's current attempt to its end, reading it at each of its live events and
 * printing each job's outcome as it ends; then the run's outcome and page, and the last
 * lines of each failed job. 0 success, 1 otherwise, 2 when the
 * run stops to wait for an approval (a script never waits on a person silently).
 */
export async function followRun(options: ClientOptions, runId: number): Promise<number> {
  const events = await watchRun(options, runId);
  try {
    return await follow(options, runId, events.next);
  } finally {
    events.close();
  }
}

async function follow(options: ClientOptions, runId: number, changed: (timeoutMs: number) => Promise<void>): Promise<number> {
  const shown = new Set<number>();
  for (;;) {
    const run = await getJson<RunJson>(options, `/api/runs/${runId}`);
    // Of a re-run, only the jobs of its attempt: the others keep an earlier attempt's outcome.
    const current = run.attempts?.find((a) => a.attempt === run.attempt)?.jobs;
    const jobs = (run.jobs ?? []).filter((j) => !current || current.includes(j.name));
    for (const job of jobs) {
      if (!FINAL.has(job.status) || shown.has(job.id)) continue;
      shown.add(job.id);
      console.log(`  ${job.status.padEnd(9)} ${job.name} ${duration(job.started_at, job.finished_at)}`.trimEnd());
    }
    if (run.status === 'blocked') {
      const waiting = jobs.filter((j) => j.status === 'blocked').map((j) => j.name);
      console.log(`${runName(run)} waits for approval of ${waiting.join(', ')}  ${runUrl(options, run)}`);
      for (const name of waiting) console.log(`  approve with: kiln approve ${runName(run)}/${name}`);
      return 2;
    }
    if (FINAL.has(run.status)) {
      console.log(`run #${run.number} ${run.status}  ${runUrl(options, run)}`);
      if (run.error) console.log(run.error);
      for (const job of jobs.filter((j) => j.status === 'failed' || j.status === 'error')) {
        const log = await (await request(options, 'GET', `/api/jobs/${job.id}/log`)).text();
        console.log(`--- last lines of ${job.name} (${job.status}) ---`);
        console.log(log.trimEnd().split('\n').slice(-TAIL).join('\n'));
      }
      return run.status === 'success' ? 0 : 1;
    }
    await changed(RECHECK_MS);
  }
}

const TAIL = 20;
/** How long to wait for an event before reading the run anyway (the socket may have been cut). */
const RECHECK_MS = 5_000;
