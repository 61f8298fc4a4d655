// `kiln logs RUN|JOB [--follow]`: prints a run's job logs (or one job's), live with --follow.
import { parseCommand } from './args.js';
import { ClientError, clientOptions, getJson, request, type ClientOptions, type JobJson, type RunJson } from './client.js';
import { findRun, jobNamed, runName } from './refs.js';

const USAGE = `Usage: kiln logs RUN [--follow]
       kiln logs RUN/JOB-NAME [--follow]
       kiln logs --job JOB-ID [--follow]

RUN is a run id, or REPO#NUMBER (e.g. web#12). With several jobs, each line starts
with [job name]. --follow streams new lines until the jobs end, then exits 0 if the
run (or the job) succeeded and 1 if not.
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN (needed on a private server)`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { follow: { type: 'boolean', short: 'f' }, job: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const follow = parsed.values.follow ?? false;
  if (parsed.values.job) {
    const jobId = Number(parsed.values.job);
    await printLog(options, jobId, follow, null);
    return follow ? outcome((await getJson<JobJson>(options, `/api/jobs/${jobId}`)).status) : 0;
  }
  const [target] = parsed.positionals;
  if (!target || parsed.positionals.length > 1) {
    console.error('kiln logs: give a RUN, RUN/JOB-NAME or --job ID (see --help)');
    return 2;
  }
  const slash = target.indexOf('/');
  const run = await findRun(options, slash === -1 ? target : target.slice(0, slash));
  if (run.error) console.log(run.error);
  const jobs = slash === -1 ? run.jobs ?? [] : [jobNamed(run, target.slice(slash + 1))];
  const prefix = jobs.length > 1;
  if (!follow) {
    for (const job of jobs) await printLog(options, job.id, false, prefix ? job.name : null);
    return 0;
  }
  // A job waiting for a person would keep the stream open without a word: say who it waits for.
  for (const job of jobs.filter((j) => j.status === 'blocked')) {
    console.error(`kiln logs: ${runName(run)}/${job.name} waits for approval (kiln approve ${runName(run)}/${job.name})`);
  }
  await Promise.all(jobs.map((j) => printLog(options, j.id, true, prefix ? j.name : null)));
  const ended = await getJson<RunJson>(options, `/api/runs/${run.id}`);
  return outcome(slash === -1 ? ended.status : jobNamed(ended, jobs[0]!.name).status);
}

/** `--follow`'s exit code: 0 when what was followed succeeded. */
function outcome(status: string): number {
  return status === 'success' ? 0 : 1;
}

async function printLog(options: ClientOptions, jobId: number, follow: boolean, prefix: string | null): Promise<void> {
  if (!Number.isSafeInteger(jobId) || jobId <= 0) throw new ClientError('a job id is a positive integer');
  const response = await request(options, 'GET', `/api/jobs/${jobId}/log${follow ? '?follow=1' : ''}`);
  const decoder = new TextDecoder();
  let partial = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    const text = partial + decoder.decode(bytes, { stream: true });
    const lines = text.split('\n');
    partial = lines.pop()!;
    if (lines.length > 0) process.stdout.write(lines.map((l) => (prefix ? `[${prefix}] ${l}` : l)).join('\n') + '\n');
  }
  if (partial) process.stdout.write(`${prefix ? `[${prefix}] ` : ''}${partial}\n`);
}
