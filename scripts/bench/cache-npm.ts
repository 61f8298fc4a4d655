// Caches on a real project: `npm ci` of a lock file with 340 packages (jest and express), from
// the npm registry, on one `kiln agent` (shell executor), three runs of the same commit:
//   cold  – no cache: npm downloads everything; the job saves `.npm`;
//   warm  – the same agent: an exact hit, restored from the agent's local copy;
//   fresh – a new agent: an exact hit downloaded from the server.
// Prints each job's time, the `npm ci` step's time, and the save and restore seconds the job
// logs; the goal is a warm restore under 10% of the cold `npm ci`. Needs the npm registry.
import { copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../shared/package-root.js';
import { ADMIN_TOKEN, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';
import { triggerRuns, watchRuns } from './runs.js';

const pipeline = `jobs:
  install:
    cache:
      key: npm-\${{ hashFiles('package-lock.json') }}
      paths: [.npm]
    steps:
      - name: npm ci
        run: npm ci --cache .npm --prefer-offline --ignore-scripts --no-audit --no-fund
`;

interface JobFigures { jobSeconds: number; npmSeconds: number; restore: string; save: string }

runBench(async () => {
  const repo = makeRepo(pipeline);
  const fixture = join(packageRoot(import.meta.url), 'scripts', 'bench', 'fixtures', 'npm-project');
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(fixture, file), join(repo, file));
  execFileSync('git', ['add', '.'], { cwd: repo });
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@kiln.invalid', 'commit', '-qm', 'npm project'], { cwd: repo });
  const server = await startServer({ web: repo });
  const watch = await watchRuns(server);
  const agentsIdle = (n: number) => waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).filter((a) => a.status === 'idle').length === n, 30_000, 'the agents');
  const runOnce = async (what: string): Promise<JobFigures> => {
    const [run] = await triggerRuns(server, 'web', 1, 1);
    const [ended] = await watch.waitAll([run!.id], 600_000);
    const job = await server.api<{ id: number; started_at: string; finished_at: string; steps: Array<{ started_at: string; finished_at: string }> }>('GET', `/api/jobs/${run!.jobs[0]!.id}`);
    const log = await (await fetch(`${server.url}/api/jobs/${job.id}/log`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    if (ended!.status !== 'success') throw new Error(`the ${what} run ended ${ended!.status}:\n${log}`);
    if (process.env.BENCH_DEBUG) console.log(`--- ${what} job's log, kiln's lines:\n${log.split('\n').filter((l) => l.includes('kiln:')).join('\n')}`);
    const seconds = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 1000;
    const step = job.steps[0]!;
    return {
      jobSeconds: seconds(job.started_at, job.finished_at),
      npmSeconds: seconds(step.started_at, step.finished_at),
      restore: /kiln: cache (hit [^\n]*|miss[^\n]*)/.exec(log)?.[1] ?? 'no cache line',
      save: /kiln: cache (saved [^\n]*|not saved[^\n]*)/.exec(log)?.[1] ?? 'no cache line',
    };
  };
  try {
    const [first] = startAgents(server, 1);
    await agentsIdle(1);
    const cold = await runOnce('cold');
    const warm = await runOnce('warm');
    first!.kill('SIGTERM');
    await agentsIdle(0).catch(() => {});
    startAgents(server, 1);
    await waitFor(async () => (await server.api<Array<{ status: string; name: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle'), 30_000, 'the new agent');
    const fresh = await runOnce('fresh agent');
    const secondsIn = (line: string) => Number(/in ([\d.]+) s/.exec(line)?.[1] ?? /, ([\d.]+) s\)/.exec(line)?.[1] ?? NaN);
    report('npm ci of 340 packages, cold then warm (s)', {
      'cold job': cold.jobSeconds, 'cold npm ci': cold.npmSeconds, 'save': secondsIn(cold.save),
      'warm job': warm.jobSeconds, 'warm npm ci': warm.npmSeconds, 'warm restore (local copy)': secondsIn(warm.restore),
      'fresh-agent job': fresh.jobSeconds, 'fresh-agent restore (download)': secondsIn(fresh.restore),
      'warm restore / cold npm ci': `${((secondsIn(warm.restore) / cold.npmSeconds) * 100).toFixed(1)}%`,
      'fresh restore / cold npm ci': `${((secondsIn(fresh.restore) / cold.npmSeconds) * 100).toFixed(1)}%`,
    });
    console.log(`  cold: ${cold.restore} · ${cold.save}\n  warm: ${warm.restore} · ${warm.save}\n  fresh: ${fresh.restore} · ${fresh.save}`);
  } finally {
    watch.close();
  }
});
