// End to end: GET /metrics on a real server whose real agent ran a pipeline twice (a success,
// then a failure). The exposition is parsed by Prometheus's own parser (promtool), scraped by
// a real Prometheus server, and shows what a user would look for, with bounded labels only.
// The documented scrape config and alert rules (docs/metrics/) are checked by promtool too.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, freePort, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { hasPrometheus, promtool, startPrometheus } from '../helpers/prometheus.js';

const DOCS = join(import.meta.dirname, '../../docs/metrics');
const METRICS_TOKEN = 'metrics-token-0123456789';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples of an exposition (promtool checked its format; this only reads it). */
function samples(text: string): Sample[] {
  return text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    return { name: match[1]!, labels, value: Number(match[3]) };
  });
}
const valueOf = (all: Sample[], name: string, labels: Record<string, string> = {}) =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

const scrape = async (server: ServerProcess, token?: string) => {
  const response = await fetch(`${server.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

describe.runIf(hasPrometheus())('GET /metrics', () => {
  let server: ServerProcess;
  let repo: TestRepo;
  let shas: string[];

  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    await repo.commit({ 'README.md': 'metrics\n' });
    server = await startServer({ repos: { web: repo.path } });
    await startAgent(server, { name: 'metrics-agent-7' });
    await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
    shas = [];
    for (const run of ['echo "all good"; seq 1 20', 'echo "about to fail"; exit 3']) {
      const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  build:\n    steps:\n      - run: ${JSON.stringify(run)}\n` });
      shas.push(sha);
      await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
    }
    const forged = await fetch(`${server.url}/hooks/web`, {
      method: 'POST', body: '{"ref":"refs/heads/main"}',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'forged-1', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    });
    expect(forged.status).toBe(401);
  }, 90_000);
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('answers text that Prometheus\'s parser reads, with no lint complaint about a kiln series', async () => {
    const { status, type, text } = await scrape(server);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const checked = await promtool(['check', 'metrics'], text);
    // 0: clean; 3: lint complaints only (prom-client's default nodejs_* gauges end in _total). 1 would be a parse error.
    expect([0, 3], checked.output).toContain(checked.code);
    expect(checked.output).not.toMatch(/parsing error|^kiln_/m);
  });

  it('counts what a user looks for: runs by event, job durations by status, queue wait, agents, log lines, a refused webhook', async () => {
    const all = await eventually(async () => {
      const parsed = samples((await scrape(server)).text);
      return valueOf(parsed, 'kiln_agents', { pool: 'none', status: 'idle' }) === 1 ? parsed : null;
    }, 10_000, 'the agent idle in the metrics');
    expect(valueOf(all, 'kiln_runs_started_total', { event: 'push' })).toBe(2);
    expect(valueOf(all, 'kiln_job_duration_seconds_count', { repo: 'web', status: 'success' })).toBe(1);
    expect(valueOf(all, 'kiln_job_duration_seconds_count', { repo: 'web', status: 'failed' })).toBe(1);
    const waits = all.filter((s) => s.name === 'kiln_queue_wait_seconds_count');
    expect(waits.some((s) => s.value >= 2), JSON.stringify(waits)).toBe(true);
    expect(valueOf(all, 'kiln_dispatch_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(valueOf(all, 'kiln_agents', { pool: 'none', status: 'idle' })).toBe(1);
    expect(valueOf(all, 'kiln_log_lines_total')).toBeGreaterThan(20);
    expect(valueOf(all, 'kiln_log_bytes_total')).toBeGreaterThan(valueOf(all, 'kiln_log_lines_total'));
    expect(valueOf(all, 'kiln_webhook_deliveries_total', { forge: 'github', result: 'refused' })).toBe(1);
    expect(valueOf(all, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('labels nothing with a run number, job id, sha or agent name', async () => {
    // kiln's own series (the default ones carry fixed labels: nodejs_version_info{major="20"}).
    const all = samples((await scrape(server)).text).filter((s) => s.name.startsWith('kiln_'));
    expect(all.length).toBeGreaterThan(20);
    const values = new Set(all.flatMap((s) => Object.entries(s.labels).filter(([k]) => k !== 'le' && k !== 'quantile').map(([, v]) => v)));
    for (const value of values) {
      expect(value).not.toMatch(/^\d+$/);
      expect(value).not.toMatch(/^[0-9a-f]{7,40}$/);
      expect(value).not.toContain('metrics-agent');
      for (const sha of shas) expect(value).not.toContain(sha.slice(0, 7));
    }
  });

  it('is scraped by a real Prometheus server that loads the documented alert rules', async () => {
    const dir = await makeTempDir('kiln-prometheus-');
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(join(DOCS, 'kiln-alerts.yml'))}]
scrape_configs:
  - job_name: kiln
    static_configs: [{ targets: ['127.0.0.1:${server.port}'] }]
`);
    await mkdir(join(dir, 'data'));
    const prometheus = startPrometheus(config, join(dir, 'data'), port);
    try {
      const query = async (expr: string) => {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
        return ((await response.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
      };
      await eventually(async () => (await query('up{job="kiln"}'))[0]?.value[1] === '1', 30_000, `up{job="kiln"} == 1\n${prometheus.output()}`);
      expect((await query('kiln_runs_started_total{event="push"}'))[0]?.value[1]).toBe('2');
      const rules = await eventually(async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } };
        const found = body.data.groups.flatMap((g) => g.rules);
        return found.length === 2 && found.every((r) => r.health === 'ok') ? found : null;
      }, 30_000, 'the alert rules evaluated');
      expect(rules.map((r) => r.name).sort()).toEqual(['KilnNoAgentInPool', 'KilnQueueWaitHigh']);
    } finally {
      prometheus.stop();
    }
  }, 60_000);

  it('the documented scrape config and alert rules pass promtool', async () => {
    const config = await promtool(['check', 'config', '--syntax-only', join(DOCS, 'prometheus.yml')]);
    expect(config.code, config.output).toBe(0);
    const rules = await promtool(['check', 'rules', join(DOCS, 'kiln-alerts.yml')]);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output).toContain('2 rules found');
  });
});

describe('GET /metrics with a metrics token', () => {
  afterAll(async () => {
    await killAll();
  });

  it('answers 401 in one JSON line without the token or with a wrong one (the admin token included), and 200 with it', async () => {
    const server = await startServer({ env: { KILN_METRICS_TOKEN: METRICS_TOKEN } });
    const refused = { error: 'this needs the metrics token: Authorization: Bearer <token>' };
    for (const token of [undefined, 'wrong-token', 'test-admin-token-0123456789']) {
      const { status, text } = await scrape(server, token);
      expect([status, JSON.parse(text)]).toEqual([401, refused]);
    }
    const right = await scrape(server, METRICS_TOKEN);
    expect(right.status).toBe(200);
    expect(right.text).toContain('# TYPE kiln_runs_started_total counter');
  });

  it('on a private server without a metrics token, asks for the admin token', async () => {
    const server = await startServer({ config: 'repos: []\npools: []\nserver:\n  private: true\n' });
    expect((await scrape(server)).status).toBe(401);
    expect((await scrape(server, 'test-admin-token-0123456789')).status).toBe(200);
  });
});
