// The server's configuration: embedded defaults, then kiln.yml (or $KILN_CONFIG), then the
// environment. The only module of the server that reads process.env (it is passed in).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// The light parts of the pipeline model only: the server answers before it loads the schema.
// kiln.yml's schema (zod) and parser (yaml) load only when there is a kiln.yml.
import { parseDuration } from '../shared/pipeline/duration.js';
import { planNotify } from '../shared/pipeline/notify.js';
import { KilnError } from '../shared/errors.js';
import { parseSize } from '../shared/size.js';
import type { ConfigFile } from './config-file.js';
import type { RepoSettingsInput } from './store/repos.js';
import type { RetentionPolicy } from './retention/sweeper.js';
import type { OidcConfig } from './oidc/identity.js';
import type { SmtpSettings } from './notify/targets.js';

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

export type RepoConfig = { name: string; path: string; url: null; pollMs: null; settings: Pick<RepoSettingsInput, 'cancelSuperseded' | 'notify'> }
  | { name: string; path: null; url: string; pollMs: number | null; settings: RepoSettingsInput };

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** How agents and links reach the server. */
  url: string;
  private: boolean;
  adminToken: string | null;  // from the environment; else <data>/admin.token
  agentToken: string | null;  // from the environment; else <data>/agent.token
  /** What GET /metrics asks for: the variable server.metrics.token_env names, else KILN_METRICS_TOKEN; null: none. */
  metricsToken: string | null;
  /** Peers whose X-Forwarded-For first hop is taken as the client's address (audit log); default none. */
  trustedProxies: string[];
  /** KILN_SECRET_KEY_FILE (resolved); null: <data>/secret.key, made at the first start. */
  secretKeyFile: string | null;
  repos: RepoConfig[] | null; // null: register the repository the server was started in
  pools: PoolConfig[];
  /** True when `pools` is the embedded default (no `pools:` in kiln.yml). */
  defaultPools: boolean;
  /** The Docker engine this host's embedded pool would use (DOCKER_HOST, else the local socket). */
  dockerHost: string;
  leaseMs: number;
  logCapBytes: number;
  /** Largest artifact archive the server takes (server.artifact_max, default 1 GiB). */
  artifactMaxBytes: number;
  /** How long an artifact without its own `expire` is kept (server.artifact_expire, default 30d). */
  artifactExpireMs: number;
  /** The caches' total size before least-recently-used entries go (server.cache_max, default 10 GiB). */
  cacheMaxBytes: number;
  /** Branch globs whose caches every run of the repo reads; null: the repo's default branch and release/*. */
  protectedBranches: string[] | null;
  /** What the retention sweeper deletes and when (server.retention; defaults 180d, 90d, 20, 1h, 365d). */
  retention: RetentionPolicy;
  /** Single sign-on (server.oidc); null: not configured. */
  oidc: OidcConfig | null;
  /** How notification mails leave (server.smtp); null: email targets fail until it is set. */
  smtp: SmtpSettings | null;
  logLevel: string;
  configFile: string | null;
  cwd: string;
}

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  cpus: number;
}

/** Reads the configuration; a problem throws a KilnError naming the file, the key and the reason. */
export async function loadServerConfig({ env, cwd, cpus }: LoadConfigOptions): Promise<ServerConfig> {
  const explicit = env.KILN_CONFIG;
  const configFile = explicit ? resolve(cwd, explicit) : existsSync(resolve(cwd, 'kiln.yml')) ? resolve(cwd, 'kiln.yml') : null;
  const file: ConfigFile = configFile ? (await import('./config-file.js')).readConfigFile(configFile) : {};
  const server = file.server ?? {};
  const host = env.KILN_HOST ?? server.host ?? '127.0.0.1';
  const port = env.KILN_PORT !== undefined ? parsePort(env.KILN_PORT) : server.port ?? 8080;
  const dataDir = resolve(configFile ? resolve(configFile, '..') : cwd, env.KILN_DATA ?? server.data ?? './.kiln');
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = (env.KILN_URL ?? server.url ?? `http://${urlHost}:${port}`).replace(/\/+$/, '');
  return {
    host,
    port,
    dataDir,
    url,
    private: server.private ?? false,
    adminToken: env.KILN_ADMIN_TOKEN || null,
    agentToken: env.KILN_AGENT_TOKEN || null,
    metricsToken: metricsToken(server.metrics?.token_env, env, configFile),
    trustedProxies: server.trusted_proxies ?? [],
    secretKeyFile: env.KILN_SECRET_KEY_FILE ? resolve(cwd, env.KILN_SECRET_KEY_FILE) : null,
    repos: file.repos?.map((r, i) => toRepo(r, configFile ? resolve(configFile, '..') : cwd, env, `${configFile}: repos[${i}]`)) ?? null,
    pools: file.pools?.map(toPool) ?? [defaultPool(cpus)],
    defaultPools: file.pools === undefined,
    dockerHost: env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    leaseMs: parseDuration(server.lease_timeout ?? '30s')!,
    logCapBytes: server.log_cap ?? 16 * 1024 * 1024,
    artifactMaxBytes: server.artifact_max !== undefined ? parseSize(server.artifact_max)! : 1024 ** 3,
    artifactExpireMs: parseDuration(server.artifact_expire ?? '30d')!,
    cacheMaxBytes: server.cache_max !== undefined ? parseSize(server.cache_max)! : 10 * 1024 ** 3,
    protectedBranches: server.protected_branches ?? null,
    retention: {
      runsMs: parseDuration(server.retention?.runs ?? '180d')!,
      logsMs: parseDuration(server.retention?.logs ?? '90d')!,
      keepLast: server.retention?.keep_last ?? 20,
      intervalMs: parseDuration(server.retention?.interval ?? '1h')!,
      auditMs: parseDuration(server.retention?.audit ?? '365d')!,
    },
    oidc: server.oidc ? toOidc(server.oidc, url, env, configFile) : null,
    smtp: smtpOf(server.smtp, env, configFile),
    logLevel: env.KILN_LOG_LEVEL ?? 'info',
    configFile,
    cwd,
  };
}

export function defaultPool(cpus: number): PoolConfig {
  return { name: 'local', provider: 'process', labels: ['linux', 'local'], min: 0, max: Math.max(1, cpus), capacity: 1, idleTimeoutMs: 30_000, schedule: [], docker: null };
}

function toPool(p: NonNullable<ConfigFile['pools']>[number]): PoolConfig {
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

/** A kiln.yml repo, its secrets read from the environment and key files it names (a missing one stops the start). */
function toRepo(r: NonNullable<ConfigFile['repos']>[number], base: string, env: LoadConfigOptions['env'], where: string): RepoConfig {
  // kiln.yml is the truth for the repos it names: a key left out is its default (true).
  const cancelSuperseded = r.cancel_superseded ?? true;
  const notify = planNotify(r.notify);
  if ('path' in r) return { name: r.name, path: resolve(base, r.path), url: null, pollMs: null, settings: { cancelSuperseded, notify } };
  const fromEnv = (key: string, name: string): string => {
    const value = env[name];
    if (!value) throw new KilnError('bad_input', `${where}.${key}: ${name} is not set in the environment`);
    return value;
  };
  const keyFile = (file: string): string => {
    try {
      return readFileSync(resolve(base, file), 'utf8');
    } catch (error) {
      throw new KilnError('bad_input', `${where}.credentials.ssh_key_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  const c = r.credentials;
  const pollMs = r.poll ? parseDuration(r.poll) : null; // null: the default (60 s, or 5 min with webhooks)
  return {
    name: r.name, path: null, url: r.url, pollMs,
    settings: {
      pollMs,
      webhookSecret: r.webhook_secret_env ? fromEnv('webhook_secret_env', r.webhook_secret_env) : null,
      webhookInsecure: r.webhook?.insecure ?? false,
      credentials: !c ? null : 'token_env' in c
        ? { kind: 'token', token: fromEnv('credentials.token_env', c.token_env), username: c.username ?? null }
        : { kind: 'ssh_key', sshKey: keyFile(c.ssh_key_file) },
      forge: r.forge ? { kind: r.forge.kind, apiUrl: r.forge.api_url, token: fromEnv('forge.token_env', r.forge.token_env) } : null,
      cancelSuperseded,
      notify,
    },
  };
}

/** server.smtp: port 465 means implicit TLS unless `secure` says otherwise; the password by value or from the environment. */
function smtpOf(smtp: NonNullable<ConfigFile['server']>['smtp'], env: LoadConfigOptions['env'], configFile: string | null): SmtpSettings | null {
  if (!smtp) return null;
  const port = smtp.port ?? (smtp.secure ? 465 : 587);
  let password = smtp.password ?? null;
  if (smtp.password_env !== undefined) {
    password = env[smtp.password_env] || null;
    if (password === null) throw new KilnError('bad_input', `${configFile}: server.smtp.password_env: ${smtp.password_env} is not set in the environment`);
  }
  return { host: smtp.host, port, secure: smtp.secure ?? port === 465, user: smtp.user ?? null, password, from: smtp.from };
}

function metricsToken(name: string | undefined, env: LoadConfigOptions['env'], configFile: string | null): string | null {
  if (name === undefined) return env.KILN_METRICS_TOKEN || null;
  const value = env[name];
  if (!value) throw new KilnError('bad_input', `${configFile}: server.metrics.token_env: ${name} is not set in the environment`);
  return value;
}

/** server.oidc, its client secret from client_secret_env, else KILN_OIDC_CLIENT_SECRET, else client_secret. */
function toOidc(o: NonNullable<NonNullable<ConfigFile['server']>['oidc']>, url: string, env: LoadConfigOptions['env'], configFile: string | null): OidcConfig {
  let clientSecret: string | undefined;
  if (o.client_secret_env !== undefined) {
    clientSecret = env[o.client_secret_env];
    if (!clientSecret) throw new KilnError('bad_input', `${configFile}: server.oidc.client_secret_env: ${o.client_secret_env} is not set in the environment`);
  } else clientSecret = env.KILN_OIDC_CLIENT_SECRET || o.client_secret;
  if (!clientSecret) throw new KilnError('bad_input', `${configFile}: server.oidc: no client secret (set KILN_OIDC_CLIENT_SECRET, or name a variable in server.oidc.client_secret_env)`);
  return {
    issuer: o.issuer,
    clientId: o.client_id,
    clientSecret,
    callbackUrl: `${url}/auth/oidc/callback`,
    adminGroup: o.admin_group ?? null,
    groupsClaim: o.groups_claim ?? 'groups',
    roles: o.roles ?? {},
    scopes: o.scopes ?? ['openid', 'email', 'profile', 'groups'],
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KilnError('bad_input', `KILN_PORT: expected a port number, got "${text}"`);
  return port;
}
