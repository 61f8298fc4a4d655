// Bursty day: a compressed day of CI (BENCH_JOBS one-job runs, default 200, in 6 waves of
// different sizes with quiet gaps between them; each job sleeps a seeded 0.5–2.5 s) replayed
// twice against a real server with a `process` pool: elastic `{ min: 0, max: M, idle_timeout }`
// and fixed `{ min: M, max: M }` (agents up and idle before the day starts, never drained).
// The same jobs arrive at the same offsets both times, triggered through the API.
//
// Per pool it prints the queue wait (queued → first step started, which includes the checkout a
// cold agent does; and queued → leased) p50/p95, the mean wait of the first M jobs of each wave
// (where a pool that scaled to zero pays its agents' start), and agent-seconds: the integral of the pool's
// live agents (every state: starting, idle, busy, draining, offline; from GET /api/pools every
// 250 ms) from the first trigger to the last job's end. For the elastic pool the agent-seconds
// it spends draining after that (idle_timeout) are printed apart as `tail agent-s`.
//
// Knobs: BENCH_JOBS (200), BENCH_SCALE (1: multiplies sleeps, wave spreads and gaps; 0.5 halves
// the day), BENCH_MAX (M, 4), BENCH_IDLE_TIMEOUT (3s), BENCH_SEED (1), BENCH_POOLS
// (elastic,fixed).
import { percentile, poolAgentPids, report, runBench, startServer, makeRepo, waitFor, type BenchServer } from './harness.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const MAX = Number(process.env.BENCH_MAX ?? 4);
const IDLE_TIMEOUT = process.env.BENCH_IDLE_TIMEOUT ?? '3s';
const SEED = Number(process.env.BENCH_SEED ?? 1);
const POOLS = (process.env.BENCH_POOLS ?? 'elastic,fixed').split(',').filter(Boolean) as Array<'elastic' | 'fixed'>;
const SAMPLE_MS = 250;

/** Waves of the day: their share of the jobs, and the quiet gap (s) after the previous wave's work. */
const WAVES = [
  { share: 0.06, gap: 0 },   // early commits
  { share: 0.22, gap: 5 },   // the morning push
  { share: 0.08, gap: 9 },   // a lull before lunch
  { share: 0.30, gap: 3 },   // the afternoon merge rush, right after (shorter than a drain)
  { share: 0.12, gap: 6 },
  { share: 0.22, gap: 5 },   // the evening release
];
const SPREAD_S = 2;           // a wave's arrivals spread over this long
const SLEEP_S = [0.5, 2.5] as const;
const OVERHEAD_S = 0.6;       // an estimate of a job's cost beyond its sleep (lease, checkout, reports)

/** mulberry32: a small seeded PRNG, so both pools see the very same day. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Arrival { atMs: number; sleep: string; wave: number }

/**
 * The day: wave sizes from the shares (the rounding goes to the biggest wave); a wave starts
 * its gap after the previous wave's work would end on M agents (an estimate from the mean job
 * time), so most gaps are truly quiet and the elastic pool can drain in the longer ones.
 */
function planDay(): { arrivals: Arrival[]; waves: Array<{ atS: number; jobs: number }> } {
  const random = prng(SEED);
  const sizes = WAVES.map((w) => Math.floor(w.share * JOBS));
  const biggest = sizes.indexOf(Math.max(...sizes));
  sizes[biggest]! += JOBS - sizes.reduce((a, b) => a + b, 0);
  const meanJob = ((SLEEP_S[0] + SLEEP_S[1]) / 2) * SCALE + OVERHEAD_S;
  const arrivals: Arrival[] = [];
  const waves: Array<{ atS: number; jobs: number }> = [];
  let at = 0;
  for (const [i, wave] of WAVES.entries()) {
    const size = sizes[i]!;
    if (i > 0) at += wave.gap * SCALE;
    waves.push({ atS: at, jobs: size });
    for (let j = 0; j < size; j++) {
      const sleep = (SLEEP_S[0] + random() * (SLEEP_S[1] - SLEEP_S[0])) * SCALE;
      arrivals.push({ atMs: Math.round((at + random() * SPREAD_S * SCALE) * 1000), sleep: sleep.toFixed(2), wave: i });
    }
    at += SPREAD_S * SCALE + Math.ceil(size / MAX) * meanJob;
  }
  return { arrivals: arrivals.sort((a, b) => a.atMs - b.atMs), waves };
}

interface PoolApi { name: string; agents: { idle: number; busy: number; draining: number; offline: number; starting: number } }
interface JobApi { status: string; queued_at: string; started_at: string | null; finished_at: string | null; steps: Array<{ started_at: string | null }> }

const liveAgents = (pool: PoolApi | undefined) => (pool ? Object.values(pool.agents).reduce((a, b) => a + b, 0) : 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FINAL = new Set(['success', 'failed', 'error', 'cancelled', 'skipped']);

/** Samples the pool's live agents every SAMPLE_MS until stopped; integrates them over any window. */
function sampler(server: BenchServer) {
  const samples: Array<{ t: number; live: number }> = [];
  const names = new Set<string>();
  let peak = 0;
  let errors = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      const pools = await server.api<PoolApi[]>('GET', '/api/pools').catch(() => null);
      if (pools) {
        const live = liveAgents(pools.find((p) => p.name === 'bench'));
        samples.push({ t, live });
        peak = Math.max(peak, live);
      } else {
        errors++; // the previous sample holds; a failed replay stops the sampler before the server
      }
      for (const { name } of poolAgentPids(server.data)) names.add(name);
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t)));
    }
  })();
  return {
    get last() { return samples.at(-1)?.live ?? 0; },
    get peak() { return peak; },
    /** Agents the provider started during the replay (distinct names in the pool's records). */
    get started() { return names.size; },
    get errors() { return errors; },
    resetPeak() { peak = 0; names.clear(); },
    /** ∫ live agents dt over [from, to] (ms clock), each sample holding until the next. */
    agentSeconds(from: number, to: number): number {
      let total = 0;
      for (let i = 0; i < samples.length; i++) {
        const start = Math.max(from, samples[i]!.t);
        const end = Math.min(to, samples[i + 1]?.t ?? to);
        if (end > start) total += samples[i]!.live * (end - start);
      }
      return total / 1000;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function replay(kind: 'elastic' | 'fixed', repo: string, arrivals: Arrival[]) {
  const min = kind === 'fixed' ? MAX : 0;
  const server = await startServer({ bench: repo },
    `pools:\n  - { name: bench, provider: process, labels: [linux], min: ${min}, max: ${MAX}, capacity: 1, idle_timeout: ${IDLE_TIMEOUT} }\n`);
  let sampling: ReturnType<typeof sampler> | null = null;
  try {
    // The fixed pool's agents start up front: the day begins when all M are idle.
    await waitFor(async () => {
      const pool = (await server.api<PoolApi[]>('GET', '/api/pools')).find((p) => p.name === 'bench');
      return pool && pool.agents.idle === min && liveAgents(pool) === min;
    }, 60_000, `the ${kind} pool's ${min} idle agents`, 100);
    const samples = sampler(server);
    sampling = samples;
    await sleep(SAMPLE_MS);
    samples.resetPeak();
    const t0 = Date.now();
    const ids: number[] = [];
    const waveOf = new Map<number, number>();
    await Promise.all(arrivals.map(async (a) => {
      await sleep(a.atMs - (Date.now() - t0));
      const { id } = await server.api<{ id: number }>('POST', '/api/repos/bench/runs', { env: { SLEEP: a.sleep } });
      ids.push(id);
      waveOf.set(id, a.wave);
    }));
    const open = new Set(ids);
    await waitFor(async () => {
      const list = await server.api<Array<{ id: number; status: string }>>('GET', '/api/repos/bench/runs?limit=500');
      for (const r of list) if (FINAL.has(r.status)) open.delete(r.id);
      const seen = new Set(list.map((r) => r.id));
      for (const id of [...open].filter((i) => !seen.has(i))) {
        if (FINAL.has((await server.api<{ status: string }>('GET', `/api/runs/${id}`)).status)) open.delete(id);
      }
      return open.size === 0;
    }, 900_000, `the ${kind} day's runs`, 500);
    const runs = await Promise.all(ids.map((id) => server.api<{ id: number; jobs: JobApi[] }>('GET', `/api/runs/${id}`)));
    const jobs = runs.flatMap((r) => r.jobs.map((j) => ({ ...j, wave: waveOf.get(r.id)! })));
    const end = Math.max(...jobs.map((j) => Date.parse(j.finished_at ?? new Date().toISOString())));
    let tail = 0;
    if (kind === 'elastic') {
      // What the pool spends after the day's last job: idle agents until idle_timeout drains them.
      await waitFor(async () => samples.last === 0, 60_000, 'the elastic pool to drain', SAMPLE_MS).catch(async () => {
        const pool = (await server.api<Array<PoolApi & { events: unknown[] }>>('GET', '/api/pools')).find((p) => p.name === 'bench');
        console.error(`the elastic pool did not drain within 60 s after the last job: ${JSON.stringify({ agents: pool?.agents, events: pool?.events.slice(0, 5) })}`);
        console.error(JSON.stringify(await server.api('GET', '/api/agents')));
      });
      tail = samples.agentSeconds(end, Date.now());
    }
    await samples.stop();
    if (samples.errors > 0) console.error(`${kind}: ${samples.errors} samples of GET /api/pools failed (the previous sample held)`);
    const ms = (a: string | null | undefined, b: string) => (Date.parse(a ?? b) - Date.parse(b)) / 1000;
    const wait = (j: JobApi) => ms(j.steps[0]?.started_at ?? j.finished_at, j.queued_at);
    const waits = jobs.map(wait);
    const leases = jobs.map((j) => ms(j.started_at ?? j.finished_at, j.queued_at));
    // The first M jobs of each wave: where a pool that scaled to zero pays its agents' start.
    const waveStarts = WAVES.flatMap((_, w) => jobs.filter((j) => j.wave === w)
      .sort((a, b) => Date.parse(a.queued_at) - Date.parse(b.queued_at)).slice(0, MAX).map(wait));
    return {
      jobs: jobs.length, failed: jobs.filter((j) => j.status !== 'success').length,
      waitP50: percentile(waits, 50), waitP95: percentile(waits, 95), waitMax: Math.max(...waits),
      leaseP50: percentile(leases, 50), leaseP95: percentile(leases, 95),
      waveStart: waveStarts.reduce((a, b) => a + b, 0) / Math.max(1, waveStarts.length),
      agentSeconds: samples.agentSeconds(t0, end), tail, wall: (end - t0) / 1000,
      peak: samples.peak, started: samples.started,
    };
  } finally {
    await sampling?.stop();
    await server.stop();
  }
}

runBench(async () => {
  // One job per run; the run's env (SLEEP) reaches the step's environment.
  const repo = makeRepo('jobs:\n  work:\n    runs-on: [linux]\n    steps: [{ run: \'sleep "$SLEEP"\' }]\n');
  const { arrivals, waves } = planDay();
  console.log(`bursty day: ${arrivals.length} jobs, M=${MAX}, idle_timeout=${IDLE_TIMEOUT}, scale=${SCALE}, seed=${SEED}; waves (start s: jobs) ${waves.map((w) => `${w.atS.toFixed(0)}:${w.jobs}`).join(' ')}; last arrival ${(arrivals.at(-1)!.atMs / 1000).toFixed(1)} s`);
  const results: Partial<Record<'elastic' | 'fixed', Awaited<ReturnType<typeof replay>>>> = {};
  for (const kind of POOLS) {
    const r = await replay(kind, repo, arrivals);
    results[kind] = r;
    report(`bursty day, ${kind} pool (min ${kind === 'fixed' ? MAX : 0}, max ${MAX}; wait = queued → first step started, s)`, {
      jobs: r.jobs, failed: r.failed, 'wait p50': r.waitP50, 'wait p95': r.waitP95, 'wait max': r.waitMax,
      'queued → leased p50': r.leaseP50, 'queued → leased p95': r.leaseP95, [`first ${MAX} of each wave avg`]: r.waveStart,
      'agent-s': r.agentSeconds, ...(kind === 'elastic' ? { 'tail agent-s': r.tail } : {}), 'wall s': r.wall,
      'peak agents': r.peak, 'agents started': r.started,
    });
  }
  const { elastic, fixed } = results;
  if (elastic && fixed) {
    report('bursty day, elastic vs fixed', {
      'agent-s saved %': (100 * (fixed.agentSeconds - elastic.agentSeconds)) / fixed.agentSeconds,
      'incl. tail %': (100 * (fixed.agentSeconds - elastic.agentSeconds - elastic.tail)) / fixed.agentSeconds,
      'wait p50 +s': elastic.waitP50 - fixed.waitP50, 'wait p95 +s': elastic.waitP95 - fixed.waitP95,
      'wave-start wait +s': elastic.waveStart - fixed.waveStart,
      'wall +s': elastic.wall - fixed.wall,
    });
  }
  const failed = Object.values(results).reduce((n, r) => n + r.failed, 0);
  if (failed > 0) throw new Error(`${failed} jobs did not succeed`);
});
