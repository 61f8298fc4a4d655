// Webhooks: a real `kiln server` process, a remote repo on a real git server on loopback
// (git http-backend behind token auth, git-server.ts, in a process of its own), GitHub push
// deliveries signed with the repo's webhook secret.
//   latency: BENCH_HOOKS (200) pushes one after another, each a new commit pushed to the
//            remote, then its delivery: delivery sent → the run's first event on /api/events
//            (the server answers 202, fetches from the remote, reads the commit, creates the run);
//   burst:   BENCH_HOOKS deliveries sent at once (distinct delivery ids, one push): deliveries/s
//            answered, and whether every one was recorded and all of them started one run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startGitServerProcess } from './git-server-process.js';
import { percentile, report, runBench, startServer, tempDir, waitFor } from './harness.js';
import { nowMs } from './runs.js';

const HOOKS = Number(process.env.BENCH_HOOKS ?? 200);
const TOKEN = 'bench-remote-token';
const SECRET = 'bench-webhook-secret';

runBench(async () => {
  const remote = await startGitServerProcess({ root: tempDir('kiln-bench-remote-'), token: TOKEN });
  remote.createRepo('web');
  const work = tempDir('kiln-bench-work-');
  const run = promisify(execFile);
  const git = async (...args: string[]) => (await run('git', ['-C', work, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } })).stdout.trim();
  const pushUrl = `http://x:${TOKEN}@${remote.url('web').slice('http://'.length)}`;
  await git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(work, 'pipeline.yml'), 'jobs:\n  one:\n    steps: [{ run: "true" }]\n');
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'start');
  await git('push', '--quiet', pushUrl, 'HEAD:refs/heads/main');
  const commitAndPush = async (i: number): Promise<string> => {
    await git('commit', '--quiet', '--allow-empty', '-m', `push ${i}`);
    await git('push', '--quiet', pushUrl, 'HEAD:refs/heads/main');
    return git('rev-parse', 'HEAD');
  };

  const server = await startServer({});
  await server.api('POST', '/api/repos', { name: 'web', url: remote.url('web'), webhook_secret: SECRET, credentials: { token: TOKEN }, poll: '1h' });

  // The first event of each new run, by sha.
  const created = new Map<string, number>();
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/events`, { perMessageDeflate: false });
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { type: string; run?: { sha: string } };
    if (event.type === 'run' && event.run && !created.has(event.run.sha)) created.set(event.run.sha, nowMs());
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

  let delivery = 0;
  const deliver = async (sha: string) => {
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, repository: { full_name: 'bench/web' } });
    const sentMs = nowMs();
    const response = await fetch(`${server.url}/hooks/web`, {
      method: 'POST', body,
      headers: {
        'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `bench-${++delivery}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
    });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`delivery answered ${response.status}`);
    return { sentMs, answeredMs: nowMs() };
  };

  const latencies: number[] = [];
  const answers: number[] = [];
  for (let i = 0; i < HOOKS; i++) {
    const sha = await commitAndPush(i);
    const { sentMs, answeredMs } = await deliver(sha);
    const seen = await waitFor(async () => created.get(sha), 30_000, `the run of delivery ${i}`, 1);
    latencies.push(seen - sentMs);
    answers.push(answeredMs - sentMs);
  }
  report(`webhook delivery → run created, ${HOOKS} pushes one after another (ms; a new commit fetched each time)`, {
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), '202 answered p50': percentile(answers, 50), '202 answered p99': percentile(answers, 99),
  });
  // What this remote alone costs: the same fetch (one new commit, branches and tags) by plain
  // git into a bare clone, after each push. The part of a hook's latency that is kiln's own is
  // the difference; the rest is this git server (a CGI per request), not a forge's.
  const probe = tempDir('kiln-bench-probe-');
  await run('git', ['init', '--bare', '--quiet', probe]);
  const fetchUrl = `http://x:${TOKEN}@${remote.url('web').slice('http://'.length)}`;
  const fetchOnce = () => run('git', ['--git-dir', probe, 'fetch', '--quiet', '--prune', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', fetchUrl, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
  await fetchOnce();
  const bare: number[] = [];
  for (let i = 0; i < Math.min(HOOKS, 50); i++) {
    await commitAndPush(HOOKS + 1 + i);
    const t0 = nowMs();
    await fetchOnce();
    bare.push(nowMs() - t0);
  }
  report(`the same fetch by plain git from this remote, ${bare.length} times (ms)`, {
    p50: percentile(bare, 50), p99: percentile(bare, 99), "kiln's own share of the p50": percentile(latencies, 50) - percentile(bare, 50),
  });

  const sha = await commitAndPush(HOOKS + 100);
  const runsBefore = (await server.api<unknown[]>('GET', '/api/repos/web/runs?limit=500')).length;
  const t0 = nowMs();
  await Promise.all(Array.from({ length: HOOKS }, () => deliver(sha)));
  const acceptedS = (nowMs() - t0) / 1000;
  const recorded = await waitFor(async () => {
    const list = await server.api<Array<{ status: string }>>('GET', '/api/repos/web/hooks?limit=500');
    const burst = list.slice(0, HOOKS);
    return burst.every((d) => d.status !== 'accepted') ? burst : null;
  }, 60_000, 'every delivery handled');
  const runsAfter = (await server.api<unknown[]>('GET', '/api/repos/web/runs?limit=500')).length;
  report(`${HOOKS} deliveries at once (one push, distinct delivery ids)`, {
    'deliveries/s accepted': HOOKS / acceptedS, recorded: recorded.length, 'runs started': runsAfter - runsBefore,
  });
  ws.close();
  await remote.close();
  await server.stop();
});
