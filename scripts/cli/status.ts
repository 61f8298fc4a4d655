// `kiln status [REPO]`: the repos and their branches' last runs, or one repo's recent runs.
import { parseCommand } from './args.js';
import { clientOptions, duration, getJson, type RunJson } from './client.js';

const USAGE = `Usage: kiln status [REPO] [--limit N]

Without REPO: every repo with the last run of each branch. With REPO: its recent runs and
their jobs.
  --limit N     how many runs of REPO (default 10)
  --server URL  default $KILN_SERVER or http://127.0.0.1:8080
  --token T     default $KILN_TOKEN (needed on a private server)`;

interface RepoJson {
  name: string;
  default_branch: string;
  last_runs: RunJson[];
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { limit: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const [repo] = parsed.positionals;
  if (!repo) {
    const repos = await getJson<RepoJson[]>(options, '/api/repos');
    if (repos.length === 0) console.log('no repos yet');
    for (const r of repos) {
      console.log(r.name);
      if (r.last_runs.length === 0) console.log('  (no runs yet)');
      for (const run of r.last_runs) console.log(`  ${line(run)}`);
    }
    return 0;
  }
  const limit = Number(parsed.values.limit ?? 10);
  const runs = await getJson<RunJson[]>(options, `/api/repos/${encodeURIComponent(repo)}/runs?limit=${limit}`);
  if (runs.length === 0) console.log(`${repo}: no runs yet`);
  for (const summary of runs) {
    const run = await getJson<RunJson>(options, `/api/runs/${summary.id}`);
    console.log(line(run));
    for (const job of run.jobs ?? []) {
      const why = job.reason ? ` (${job.reason})` : '';
      console.log(`    ${job.status.padEnd(9)} ${job.name} ${duration(job.started_at, job.finished_at)}${why}`.trimEnd());
    }
  }
  return 0;
}

function line(run: RunJson): string {
  const where = run.branch ?? run.tag ?? run.ref ?? '';
  return `#${run.number} ${run.status.padEnd(9)} ${where} ${run.sha.slice(0, 8)} ${run.event} ${duration(run.started_at, run.finished_at)} ${run.message ?? ''}`.replace(/\s+$/, '');
}
