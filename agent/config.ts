// The agent's configuration: command-line flags over the environment over defaults. The only
// module of the agent that reads the environment (it is passed in).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KilnError } from '../shared/errors.js';
import { parseDuration } from '../shared/pipeline/duration.js';
import { parseSize } from '../shared/size.js';
import { CA_BUNDLE_PATH, parseCaBundle, parseEnvPassthrough, parseVolumes, statPathKind, type DockerVolume, type PathKind } from './job-env-config.js';

export type { DockerVolume } from './job-env-config.js';

export interface AgentConfig {
  /** The server's base URL without a trailing slash (`http://ci:8080`). */
  serverUrl: string;
  token: string;
  labels: string[];
  capacity: number;
  name: string;
  /** The pool that started this agent; null for an agent started by hand. */
  pool: string | null;
  /** Holds `workspaces/`, `git/` (the mirror cache) and `spool/`. */
  workDir: string;
  /** Take one job, finish it, and exit. */
  once: boolean;
  logLevel: string;
  docker: DockerConfig;
  /** A git cache folder shared with the host's other agents (`--git-cache`); null: `<workDir>/git`. */
  gitCache: string | null;
  /** A pool agent exits after its server was unreachable this long (no `welcome`); hand-started agents ignore it. */
  orphanTimeoutMs: number;
  /** Names or globs of the agent's variables that host jobs see besides PATH, HOME, locale and proxies (never KILN_*). */
  envPassthrough: string[];
  /** Bytes of cache archives kept in `<workDir>/cache-blobs` to skip downloads (`--cache-local-max`); the least recently used go first. */
  cacheLocalMaxBytes: number;
  /** A folder of cache copies shared with the host's other agents (`--cache-local-dir`); null: `<workDir>/cache-blobs`. */
  cacheLocalDir: string | null;
}

/** How the agent uses Docker for jobs with `image`, `services` or `docker:`. */
export interface DockerConfig {
  /** False with --no-docker (or KILN_DOCKER=0): image jobs are not taken (no `docker` label). */
  enabled: boolean;
  /** The engine: `unix:///var/run/docker.sock` (default, or $DOCKER_HOST) or `tcp://host:2376`. */
  host: string | null;
  /** $DOCKER_HOST, which dockerode reads itself when `host` is null; and whether TLS is asked for ($DOCKER_TLS_VERIFY / $DOCKER_CERT_PATH). */
  defaultHost: string | null;
  tls: boolean;
  /** `bridge`: a network per job, services by alias. `host`: the host's network, services at 127.0.0.1. */
  network: 'bridge' | 'host';
  /** dind's security: `privileged`, or the explicit set for hosts that refuse privileged containers. */
  dind: { privileged: true } | { privileged: false; capAdd: string[]; securityOpt: string[] };
  /** A PEM bundle on the engine's host, mounted over the job container's (`--docker-ca-bundle`); null: the image's own. */
  caBundle: string | null;
  /** Host paths the agent's owner lets every job container mount (`--docker-volumes`); a pipeline cannot add any. */
  volumes: DockerVolume[];
}

/** What the command line gave; undefined = not given. */
export interface AgentFlags {
  server?: string;
  token?: string;
  labels?: string;
  capacity?: string;
  name?: string;
  pool?: string;
  workDir?: string;
  once?: boolean;
  noDocker?: boolean;
  dockerHost?: string;
  dockerNetwork?: string;
  gitCache?: string;
  orphanTimeout?: string;
  dockerCaBundle?: string;
  dockerVolumes?: string;
  envPassthrough?: string;
  cacheLocalMax?: string;
  cacheLocalDir?: string;
  tokenFile?: string;
}

export interface LoadAgentConfigOptions {
  flags: AgentFlags;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The user's home folder, or null when there is none (then `./.kiln-agent`). */
  homeDir: string | null;
  hostname: string;
  /** Makes the default name's suffix; injected so tests get stable names. */
  random?: () => number;
  /** What is at a path (the CA bundle, volumes' host paths); injected by tests, default `stat`. */
  pathKind?: (path: string) => PathKind;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,199}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

const bad = (message: string) => new KilnError('bad_input', message);
const pick = (flag: string | undefined, env: string | undefined) => (flag !== undefined ? flag : env || undefined);

/** Reads the configuration; a bad or missing value throws a KilnError with one line that names the option. */
export function loadAgentConfig(o: LoadAgentConfigOptions): AgentConfig {
  const { flags, env } = o;
  const server = pick(flags.server, env.KILN_SERVER);
  if (!server) throw bad('--server (or KILN_SERVER) is required: the URL of the kiln server, e.g. http://ci:8080');
  const token = agentToken(flags, env, o.cwd);
  const workDir = pick(flags.workDir, env.KILN_AGENT_DIR);
  const random = o.random ?? Math.random;
  const resolvedWorkDir = workDir ? resolve(o.cwd, workDir) : join(o.homeDir ?? o.cwd, '.kiln-agent');
  return {
    serverUrl: parseServerUrl(server),
    token: token.trim(),
    labels: parseLabels(pick(flags.labels, env.KILN_LABELS) ?? 'linux'),
    capacity: parseCapacity(pick(flags.capacity, env.KILN_CAPACITY) ?? '1'),
    name: parseName(pick(flags.name, env.KILN_AGENT_NAME) ?? defaultName(o.hostname, random)),
    pool: pick(flags.pool, env.KILN_POOL)?.trim() || null,
    workDir: resolvedWorkDir,
    once: flags.once ?? false,
    logLevel: env.KILN_LOG_LEVEL || 'info',
    docker: parseDocker(flags, env, { cwd: o.cwd, pathKind: o.pathKind, workDir: resolvedWorkDir }),
    gitCache: pickPath(pick(flags.gitCache, env.KILN_GIT_CACHE), o.cwd),
    orphanTimeoutMs: parseOrphanTimeout(pick(flags.orphanTimeout, env.KILN_ORPHAN_TIMEOUT) ?? '10m'),
    envPassthrough: parseEnvPassthrough(source(flags.envPassthrough, '--env-passthrough', 'KILN_AGENT_ENV_PASSTHROUGH'), pick(flags.envPassthrough, env.KILN_AGENT_ENV_PASSTHROUGH)),
    cacheLocalMaxBytes: parseCacheLocalMax(source(flags.cacheLocalMax, '--cache-local-max', 'KILN_CACHE_LOCAL_MAX'), pick(flags.cacheLocalMax, env.KILN_CACHE_LOCAL_MAX) ?? '5GiB'),
    cacheLocalDir: pickPath(pick(flags.cacheLocalDir, env.KILN_CACHE_LOCAL_DIR), o.cwd),
  };
}

/**
 * The agent token: `--token-file` / KILN_AGENT_TOKEN_FILE (kept out of the process list and
 * of `docker inspect`), else `--token` / KILN_AGENT_TOKEN. A flag wins over the environment.
 */
function agentToken(flags: AgentFlags, env: LoadAgentConfigOptions['env'], cwd: string): string {
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw bad('give --token or --token-file, not both');
  const file = flags.token !== undefined ? undefined : pick(flags.tokenFile, env.KILN_AGENT_TOKEN_FILE);
  if (file !== undefined) {
    const name = flags.tokenFile !== undefined ? '--token-file' : 'KILN_AGENT_TOKEN_FILE';
    let text: string;
    try {
      text = readFileSync(resolve(cwd, file), 'utf8');
    } catch (error) {
      throw bad(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const token = text.trim();
    if (!token) throw bad(`${name}: ${file} is empty; it should hold the server's agent token (<data>/agent.token)`);
    if (/\s/.test(token)) throw bad(`${name}: ${file} holds more than one word; it should hold only the server's agent token`);
    return token;
  }
  const token = pick(flags.token, env.KILN_AGENT_TOKEN);
  if (!token) throw bad('--token-file or --token (or KILN_AGENT_TOKEN_FILE, KILN_AGENT_TOKEN) is required: the agent token of the server (<data>/agent.token)');
  return token;
}

/** `--cache-local-max 5GiB`: a size (`500MiB`, `2 GB`, bytes); 0 keeps no local copies. */
function parseCacheLocalMax(name: string, text: string): number {
  const bytes = parseSize(text);
  if (bytes === null) throw bad(`${name}: expected a size such as 5GiB, 500MiB or 0, got "${text}"`);
  return bytes;
}

const pickPath = (text: string | undefined, cwd: string) => (text?.trim() ? resolve(cwd, text.trim()) : null);

/** `--orphan-timeout 10m`: a duration (`90s`, `10m`, `1h30m`, `2d`) from 1 s to 365 days. */
function parseOrphanTimeout(text: string): number {
  const ms = parseDuration(text.trim());
  if (ms === null || ms < 1000 || ms > 365 * 86_400_000) {
    throw bad(`--orphan-timeout: expected a duration from 1s to 365d such as 90s, 10m or 1h30m, got "${text}"`);
  }
  return ms;
}

const list = (text: string | undefined, fallback: string[]) => (text ? text.split(',').map((x) => x.trim()).filter(Boolean) : fallback);

/** The name to put in an error: the flag when it was given, else the environment variable. */
const source = (flag: string | undefined, flagName: string, envName: string) => (flag !== undefined ? flagName : envName);

interface DockerPaths {
  cwd: string;
  pathKind?: (path: string) => PathKind;
  /** Mounted in every job container (the workspaces live there); an agent volume may not overlap it. */
  workDir?: string;
}

/** The Docker settings alone (for `kiln run`, which has no server). */
export function loadDockerConfig(
  flags: Pick<AgentFlags, 'noDocker' | 'dockerHost' | 'dockerNetwork' | 'dockerCaBundle' | 'dockerVolumes'>,
  env: LoadAgentConfigOptions['env'],
  paths: DockerPaths = { cwd: process.cwd() },
): DockerConfig {
  return parseDocker(flags, env, paths);
}

function parseDocker(flags: AgentFlags, env: LoadAgentConfigOptions['env'], paths: DockerPaths): DockerConfig {
  const network = pick(flags.dockerNetwork, env.KILN_DOCKER_NETWORK) ?? 'bridge';
  if (network !== 'bridge' && network !== 'host') throw bad(`--docker-network: expected bridge or host, got "${network}"`);
  const security = env.KILN_DIND_SECURITY ?? 'privileged';
  if (security !== 'privileged' && security !== 'unprivileged') throw bad(`KILN_DIND_SECURITY: expected privileged or unprivileged, got "${security}"`);
  const host = pick(flags.dockerHost, env.KILN_DOCKER_HOST) ?? null;
  // A remote engine mounts paths of its own host, which the agent cannot see: they are not checked.
  const engine = host ?? env.DOCKER_HOST ?? '';
  const check = { cwd: paths.cwd, local: !/^(tcp|ssh|https?):\/\//.test(engine), pathKind: paths.pathKind ?? statPathKind };
  const caBundle = parseCaBundle(source(flags.dockerCaBundle, '--docker-ca-bundle', 'KILN_DOCKER_CA_BUNDLE'), pick(flags.dockerCaBundle, env.KILN_DOCKER_CA_BUNDLE), check);
  const reserved = [...(paths.workDir ? [paths.workDir] : []), ...(caBundle ? [CA_BUNDLE_PATH] : [])];
  const volumes = parseVolumes(source(flags.dockerVolumes, '--docker-volumes', 'KILN_DOCKER_VOLUMES'), pick(flags.dockerVolumes, env.KILN_DOCKER_VOLUMES), check, reserved);
  return {
    enabled: !(flags.noDocker ?? false) && env.KILN_DOCKER !== '0',
    // Without one, dockerode reads DOCKER_HOST (and DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) itself.
    host,
    defaultHost: env.DOCKER_HOST || null,
    tls: Boolean(env.DOCKER_TLS_VERIFY || env.DOCKER_CERT_PATH),
    network,
    dind: security === 'privileged' ? { privileged: true } : {
      privileged: false,
      capAdd: list(env.KILN_DIND_CAP_ADD, ['SYS_ADMIN', 'NET_ADMIN']),
      securityOpt: list(env.KILN_DIND_SECURITY_OPT, ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined']),
    },
    caBundle,
    volumes,
  };
}

function parseServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad(`--server: "${text}" is not a URL; expected e.g. http://ci:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`--server: expected an http:// or https:// URL, got "${text}"`);
  if (url.username || url.password) throw bad('--server: put the token in --token, not in the URL');
  if (url.search || url.hash) throw bad(`--server: expected a base URL without ?query or #fragment, got "${text}"`);
  return url.href.replace(/\/+$/, '');
}

function parseLabels(text: string): string[] {
  const labels = [...new Set(text.split(',').map((l) => l.trim()).filter(Boolean))];
  if (labels.length === 0) throw bad('--labels: give at least one label, e.g. linux,docker');
  if (labels.length > 64) throw bad(`--labels: at most 64 labels, got ${labels.length}`);
  const wrong = labels.find((l) => !LABEL.test(l));
  if (wrong !== undefined) throw bad(`--labels: "${wrong}" is not a label (letters, digits and . _ : / = -)`);
  return labels;
}

function parseCapacity(text: string): number {
  const capacity = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 256) {
    throw bad(`--capacity: expected a whole number of jobs from 1 to 256, got "${text}"`);
  }
  return capacity;
}

function parseName(text: string): string {
  const name = text.trim();
  if (!NAME.test(name)) throw bad(`--name: "${text}" is not a name (letters, digits and . _ -, at most 200)`);
  return name;
}

/** `buildhost-3f9a`: the host name and a suffix, so that two agents on one host differ. */
function defaultName(hostname: string, random: () => number): string {
  const host = hostname.split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 180) || 'agent';
  const suffix = Math.floor(random() * 0x10000).toString(16).padStart(4, '0');
  return `${host}-${suffix}`;
}
