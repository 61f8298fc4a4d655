// `kiln trigger REPO [--ref REF] [--input K=V]...`: starts a run through the API; --wait follows it to the end.
import { parseCommand, parsePairs } from './args.js';
import { clientOptions, duration, FINAL, getJson, request, type ClientOptions, type RunJson } from './client.js';
import { runName, runUrl } from './refs.js';

const USAGE = `Usage: kiln trigger REPO [--ref REF] [--sha SHA] [--env NAME=VALUE]... [--input NAME=VALUE]... [--wait]

Starts a run of REPO (default: its default branch). Needs the admin token in KILN_TOKEN.
  --ref REF     a branch or tag
  --sha SHA     an exact commit
  --env N=V     an extra environment variable for every job (repeatable)
  --input N=V   a value for the pipeline's on.manual.inputs (repeatable; checked by the server)
  --wait        follow the run: each job's outcome as it ends, then the run's, with the
                last 20 lines of each failed job; exit 0 if it succeeded, 1 if not,
                2 when it stops to wait for an approval (kiln approve RUN/JOB)
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {
    ref: { type: 'string' }, sha: { type: 'string' }, env: { type: 'string', multiple: true }, input: { type: 'string', multiple: true }, wait: { type: 'boolean' },
    server: { type: 'string' }, token: { type: 'string' },
  }, USAGE);
  if (!parsed) return 0;
  const [repo, ...extra] = parsed.positionals;
  if (!repo || extra.length > 0) {
    console.error('kiln trigger: give exactly one REPO (see --help)');
    return 2;
  }
  const env = parsePairs('--env', parsed.values.env, USAGE);
  const inputs = parsePairs('--input', parsed.values.input, USAGE);
  const options = clientOptions(parsed.values);
  const body = {
    ...(parsed.values.ref ? { ref: parsed.values.ref } : {}), ...(parsed.values.sha ? { sha: parsed.values.sha } : {}),
    ...(Object.keys(env).length ? { env } : {}), ...(Object.keys(inputs).length ? { inputs } : {}),
  };
  const run = (await (await request(options, 'POST', `/api/repos/${encodeURIComponent(repo)}/runs`, body)).json()) as RunJson;
  console.log(`${run.repo} run #${run.number} (id ${run.id}) ${run.status}: ${run.ref ?? ''} ${run.sha.slice(0, 12)} ${run.message ?? ''}`.trimEnd());
  if (!parsed.values.wait) return 0;
  return wait(options, run);
}

/**
 * Follows a run to its end (polling), printing each job's outcome as it ends; then the run's
 * outcome and page, and the last lines of each failed job. 0 success, 1 otherwise, 2 when the
 * run stops to wait for an approval (a script never waits on a person silently).
 */
async function wait(options: ClientOptions, started: RunJson): Promise<number> {
  const shown = new Set<number>();
  for (;;) {
    const run = await getJson<RunJson>(options, `/api/runs/${started.id}`);
    for (const job of run.jobs ?? []) {
      if (!FINAL.has(job.status) || shown.has(job.id)) continue;
      shown.add(job.id);
      console.log(`  ${job.status.padEnd(9)} ${job.name} ${duration(job.started_at, job.finished_at)}`.trimEnd());
    }
    if (run.status === 'blocked') {
      const waiting = (run.jobs ?? []).filter((j) => j.status === 'blocked').map((j) => j.name);
      console.log(`${runName(run)} waits for approval of ${waiting.join(', ')}  ${runUrl(options, run)}`);
      for (const name of waiting) console.log(`  approve with: kiln approve ${runName(run)}/${name}`);
      return 2;
    }
    if (FINAL.has(run.status)) {
      console.log(`run #${run.number} ${run.status}  ${runUrl(options, run)}`);
      if (run.error) console.log(run.error);
      for (const job of (run.jobs ?? []).filter((j) => j.status === 'failed' || j.status === 'error')) {
        const log = await (await request(options, 'GET', `/api/jobs/${job.id}/log`)).text();
        console.log(`--- last lines of ${job.name} (${job.status}) ---`);
        console.log(log.trimEnd().split('\n').slice(-TAIL).join('\n'));
      }
      return run.status === 'success' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const TAIL = 20;
