// The server's configuration: embedded defaults, then kiln.yml (or $KILN_CONFIG), then the
// environment. The only module of the server that reads process.env (it is passed in).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parsePipelineText } from '../shared/pipeline/parse.js';
// The light parts of the pipeline model only: the server answers before it loads the schema.
import { formatPath } from '../shared/pipeline/paths.js';
import { DURATION_PATTERN, parseDuration } from '../shared/pipeline/duration.js';
import { JOB_NAME_PATTERN } from '../shared/pipeline/names.js';
import { KilnError } from '../shared/errors.js';

export type ProviderKind = 'process' | 'docker' | 'swarm';

export interface PoolConfig {
  name: string;
  provider: ProviderKind;
  labels: string[];
  min: number;
  max: number;
  capacity: number;
  idleTimeoutMs: number;
  schedule: Array<{ cron: string; min: number }>;
  docker: { host: string | null; image: string; network: string | null; env: Record<string, string> } | null;
}

export type RepoConfig = { name: string; path: string; url: null; pollMs: null; webhookSecretEnv: string | null }
  | { name: string; path: null; url: string; pollMs: number | null; webhookSecretEnv: string | null };

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** How agents and links reach the server. */
  url: string;
  private: boolean;
  adminToken: string | null;  // from the environment; else <data>/admin.token
  agentToken: string | null;  // from the environment; else <data>/agent.token
  repos: RepoConfig[] | null; // null: register the repository the server was started in
  pools: PoolConfig[];
  /** True when `pools` is the embedded default (no `pools:` in kiln.yml). */
  defaultPools: boolean;
  /** The Docker engine this host's embedded pool would use (DOCKER_HOST, else the local socket). */
  dockerHost: string;
  leaseMs: number;
  logCapBytes: number;
  logLevel: string;
  configFile: string | null;
  cwd: string;
}

const duration = z.string().regex(DURATION_PATTERN, { error: 'expected a duration such as 30s or 2m' });
const poolSchema = z.strictObject({
  name: z.string().regex(JOB_NAME_PATTERN, { error: 'a pool name is letters, digits, _, . and -' }),
  provider: z.enum(['process', 'docker', 'swarm'], { error: 'expected process, docker or swarm' }),
  labels: z.array(z.string()).optional(),
  min: z.int().min(0).optional(),
  max: z.int().min(0).optional(),
  capacity: z.int().min(1).optional(),
  idle_timeout: duration.optional(),
  schedule: z.array(z.strictObject({ cron: z.string(), min: z.int().min(0) })).optional(),
  docker: z.strictObject({
    host: z.string().optional(),
    image: z.string().optional(),
    network: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
  }).optional(),
});
const repoSchema = z.union([
  z.strictObject({ name: z.string().regex(JOB_NAME_PATTERN), path: z.string() }),
  z.strictObject({ name: z.string().regex(JOB_NAME_PATTERN), url: z.string(), poll: duration.optional(), webhook_secret_env: z.string().optional() }),
], { error: 'a repo is { name, path } or { name, url, poll?, webhook_secret_env? }' });
const fileSchema = z.strictObject({
  server: z.strictObject({
    host: z.string().optional(),
    port: z.int().min(0).max(65535).optional(),
    data: z.string().optional(),
    url: z.url().optional(),
    private: z.boolean().optional(),
    lease_timeout: duration.optional(),
    log_cap: z.int().min(1024).optional(),
  }).optional(),
  repos: z.array(repoSchema).optional(),
  pools: z.array(poolSchema).optional(),
});

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  cpus: number;
}

/** Reads the configuration; a problem throws a KilnError naming the file, the key and the reason. */
export function loadServerConfig({ env, cwd, cpus }: LoadConfigOptions): ServerConfig {
  const explicit = env.KILN_CONFIG;
  const configFile = explicit ? resolve(cwd, explicit) : existsSync(resolve(cwd, 'kiln.yml')) ? resolve(cwd, 'kiln.yml') : null;
  const file = configFile ? readConfigFile(configFile) : {};
  const server = file.server ?? {};
  const host = env.KILN_HOST ?? server.host ?? '127.0.0.1';
  const port = env.KILN_PORT !== undefined ? parsePort(env.KILN_PORT) : server.port ?? 8080;
  const dataDir = resolve(configFile ? resolve(configFile, '..') : cwd, env.KILN_DATA ?? server.data ?? './.kiln');
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    dataDir,
    url: (env.KILN_URL ?? server.url ?? `http://${urlHost}:${port}`).replace(/\/+$/, ''),
    private: server.private ?? false,
    adminToken: env.KILN_ADMIN_TOKEN || null,
    agentToken: env.KILN_AGENT_TOKEN || null,
    repos: file.repos?.map((r) => toRepo(r, configFile ? resolve(configFile, '..') : cwd)) ?? null,
    pools: file.pools?.map(toPool) ?? [defaultPool(cpus)],
    defaultPools: file.pools === undefined,
    dockerHost: env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    leaseMs: parseDuration(server.lease_timeout ?? '30s')!,
    logCapBytes: server.log_cap ?? 16 * 1024 * 1024,
    logLevel: env.KILN_LOG_LEVEL ?? 'info',
    configFile,
    cwd,
  };
}

export function defaultPool(cpus: number): PoolConfig {
  return { name: 'local', provider: 'process', labels: ['linux', 'local'], min: 0, max: Math.max(1, cpus), capacity: 1, idleTimeoutMs: 30_000, schedule: [], docker: null };
}

function readConfigFile(file: string): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KilnError('bad_input', `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const parsed = parsePipelineText(text);
  if (!parsed.ok) {
    const p = parsed.problems[0]!;
    throw new KilnError('bad_input', `${file}:${p.line}:${p.col}: ${p.message}`);
  }
  const checked = fileSchema.safeParse(parsed.parsed.value ?? {});
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const keys = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path;
    const { line, col } = parsed.parsed.locate(keys, issue.code === 'unrecognized_keys' ? 'key' : 'value');
    const reason = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]}"` : issue.message;
    throw new KilnError('bad_input', `${file}:${line}:${col}: ${formatPath(keys) || 'file'}: ${reason}`);
  }
  for (const [i, pool] of (checked.data.pools ?? []).entries()) {
    if ((pool.min ?? 0) > (pool.max ?? Infinity)) {
      throw new KilnError('bad_input', `${file}: pools[${i}]: min (${pool.min}) is above max (${pool.max})`);
    }
  }
  return checked.data;
}

function toPool(p: z.infer<typeof poolSchema>): PoolConfig {
  return {
    name: p.name,
    provider: p.provider,
    labels: p.labels ?? ['linux', p.provider === 'process' ? 'local' : p.provider],
    min: p.min ?? 0,
    max: p.max ?? 4,
    capacity: p.capacity ?? 1,
    idleTimeoutMs: parseDuration(p.idle_timeout ?? '30s')!,
    schedule: p.schedule ?? [],
    docker: p.docker ? { host: p.docker.host ?? null, image: p.docker.image ?? 'kiln-agent:latest', network: p.docker.network ?? null, env: p.docker.env ?? {} } : null,
  };
}

function toRepo(r: z.infer<typeof repoSchema>, base: string): RepoConfig {
  if ('path' in r) return { name: r.name, path: resolve(base, r.path), url: null, pollMs: null, webhookSecretEnv: null };
  return { name: r.name, path: null, url: r.url, pollMs: r.poll ? parseDuration(r.poll) : 60_000, webhookSecretEnv: r.webhook_secret_env ?? null };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KilnError('bad_input', `KILN_PORT: expected a port number, got "${text}"`);
  return port;
}
