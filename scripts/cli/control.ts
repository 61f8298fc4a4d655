// `kiln approve JOB`, `kiln cancel RUN`, `kiln rerun RUN [--failed]`, `kiln retry JOB` (each but cancel [--wait]): change a
// run's course through the API (admin token), and say in one line what the server did; with
// --wait, then follow the run to its end.
import { parseCommand, UsageError } from './args.js';
import { ClientError, clientOptions, FINAL, request, type ClientOptions, type JobJson, type RunJson } from './client.js';
import { followRun } from './follow.js';
import { findJob, findRun, runName, runUrl } from './refs.js';

const REFS = `RUN is a run id or REPO#NUMBER (e.g. web#12); JOB a job id or RUN/JOB-NAME (e.g. web#12/deploy).
Needs the admin token in KILN_TOKEN. Exits 1 when the server refuses (it says why), 2 on a usage mistake.
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN`;

const CLIENT = { server: { type: 'string' }, token: { type: 'string' } } as const;
const WAITING = { ...CLIENT, wait: { type: 'boolean' } } as const;
const WAIT = `  --wait        then follow the run as kiln trigger --wait does: each job's outcome as it
                ends, the failed jobs' last 20 lines; exit 0 if it succeeded, 1 if not,
                2 when it stops to wait for an approval`;

const USAGES = {
  approve: `Usage: kiln approve JOB [--wait]\n\nLets a job that waits for approval (blocked) go on.\n${WAIT}\n${REFS}`,
  cancel: `Usage: kiln cancel RUN\n\nCancels a run's unfinished jobs.\n${REFS}`,
  rerun: `Usage: kiln rerun RUN [--failed] [--wait]\n\nRe-runs an ended run as its next attempt: every job, or with --failed the failed,\ncancelled and errored ones; the jobs that need them run again too.\n  --failed      only the jobs that did not succeed\n${WAIT}\n${REFS}`,
  retry: `Usage: kiln retry JOB [--wait]\n\nRe-runs one job of an ended run as the run's next attempt, with the jobs that need it.\n${WAIT}\n${REFS}`,
};

export async function approve(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, WAITING, USAGES.approve);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const { run, job } = await findJob(options, only('approve', 'JOB', parsed.positionals));
  const approved = (await (await request(options, 'POST', `/api/jobs/${job.id}/approve`)).json()) as JobJson;
  console.log(`${runName(run)} ${approved.name} approved: ${approved.status}  ${runUrl(options, run)}`);
  return parsed.values.wait ? followRun(options, run.id) : 0;
}

export async function cancel(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, CLIENT, USAGES.cancel);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const run = await findRun(options, only('cancel', 'RUN', parsed.positionals));
  if (FINAL.has(run.status)) throw new ClientError(`${runName(run)} has already ended (${run.status}); nothing to cancel`);
  const cancelled = (await (await request(options, 'POST', `/api/runs/${run.id}/cancel`)).json()) as RunJson;
  console.log(`${runName(cancelled)} ${cancelled.status}  ${runUrl(options, cancelled)}`);
  return 0;
}

export async function rerun(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { ...WAITING, failed: { type: 'boolean' } }, USAGES.rerun);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const run = await findRun(options, only('rerun', 'RUN', parsed.positionals));
  const body = { failed_only: parsed.values.failed ?? false };
  printAttempt(options, (await (await request(options, 'POST', `/api/runs/${run.id}/rerun`, body)).json()) as RunJson);
  return parsed.values.wait ? followRun(options, run.id) : 0;
}

export async function retry(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, WAITING, USAGES.retry);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const { run, job } = await findJob(options, only('retry', 'JOB', parsed.positionals));
  printAttempt(options, (await (await request(options, 'POST', `/api/jobs/${job.id}/retry`)).json()) as RunJson);
  return parsed.values.wait ? followRun(options, run.id) : 0;
}

function only(command: keyof typeof USAGES, what: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: give exactly one ${what}`, USAGES[command]);
  return positionals[0]!;
}

/** `web#3 attempt 2: test, deploy queued  URL`: the attempt a re-run started and its jobs. */
function printAttempt(options: ClientOptions, run: RunJson): void {
  const jobs = run.attempts?.find((a) => a.attempt === run.attempt)?.jobs ?? [];
  console.log(`${runName(run)} attempt ${run.attempt}: ${jobs.join(', ')} ${run.status}  ${runUrl(options, run)}`);
}
