// How the client commands name runs and jobs: RUN is a run id or REPO#NUMBER, JOB a job id or
// RUN/JOB-NAME; and the one-line summary and dashboard address that they print for a run.
import { ClientError, getJson, type ClientOptions, type JobJson, type RunJson } from './client.js';

/** A run by id or REPO#NUMBER, with its jobs. */
export async function findRun(options: ClientOptions, ref: string): Promise<RunJson> {
  const hash = ref.indexOf('#');
  if (hash === -1) {
    if (!/^\d+$/.test(ref)) throw new ClientError(`"${ref}" is not a run id or REPO#NUMBER`);
    return getJson<RunJson>(options, `/api/runs/${ref}`);
  }
  const number = Number(ref.slice(hash + 1));
  if (!Number.isSafeInteger(number) || number <= 0) throw new ClientError(`"${ref}" is not a run id or REPO#NUMBER`);
  const runs = await getJson<RunJson[]>(options, `/api/repos/${encodeURIComponent(ref.slice(0, hash))}/runs?before=${number + 1}&limit=1`);
  if (runs[0]?.number !== number) throw new ClientError(`no run ${ref}`);
  return getJson<RunJson>(options, `/api/runs/${runs[0].id}`);
}

/** The run's job of that name; the error lists the run's job names. */
export function jobNamed(run: RunJson, name: string): JobJson {
  const jobs = run.jobs ?? [];
  const job = jobs.find((j) => j.name === name);
  if (!job) throw new ClientError(`${runName(run)} has no job named "${name}"; its jobs: ${jobs.map((j) => j.name).join(', ') || '(none)'}`);
  return job;
}

/** A job by id or RUN/JOB-NAME, with its run. */
export async function findJob(options: ClientOptions, ref: string): Promise<{ run: RunJson; job: JobJson }> {
  const slash = ref.indexOf('/');
  if (slash !== -1) {
    const run = await findRun(options, ref.slice(0, slash));
    return { run, job: jobNamed(run, ref.slice(slash + 1)) };
  }
  if (!/^\d+$/.test(ref)) throw new ClientError(`"${ref}" is not a job id or RUN/JOB-NAME`);
  const { run_id } = await getJson<JobJson>(options, `/api/jobs/${ref}`);
  const run = await getJson<RunJson>(options, `/api/runs/${run_id}`);
  return { run, job: (run.jobs ?? []).find((j) => j.id === Number(ref))! };
}

/** `web#3`, as a user names the run. */
export function runName(run: Pick<RunJson, 'repo' | 'number'>): string {
  return `${run.repo}#${run.number}`;
}

/** The run's page on the dashboard. */
export function runUrl(options: ClientOptions, run: Pick<RunJson, 'id'>): string {
  return `${options.server}/runs/${run.id}`;
}
