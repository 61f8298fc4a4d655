// `kiln trigger REPO [--ref REF] [--input K=V]...`: starts a run through the API; --wait follows it to the end.
import { parseCommand, parsePairs } from './args.js';
import { clientOptions, request, type RunJson } from './client.js';
import { followRun } from './follow.js';

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
  return followRun(options, run.id);
}
