// The Docker engine a `docker` or `swarm` pool talks to: its `docker.host` (unix socket, or
// tcp:// with TLS from DOCKER_CERT_PATH), else the engine dockerode finds from DOCKER_HOST.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { PoolConfig } from '../config.js';

// Why a lazy require: dockerode and its dependencies cost a server that never talks to a Docker
// pool about 25 MiB of memory. It is loaded the first time a pool needs an engine.
const load = (): typeof Docker => createRequire(import.meta.url)('dockerode') as typeof Docker;

/**
 * Whether the engine at `host` answers `GET /_ping` within `timeoutMs`. A unix socket is asked
 * directly (no client library); other addresses through dockerode.
 */
export async function pingEngine(host: string, env: EngineEnv, timeoutMs: number): Promise<boolean> {
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  if (!host.startsWith('unix://')) {
    const DockerClient = load();
    return Promise.race([new DockerClient(engineOptions(host, env)).ping().then(() => true, () => false), timeout]);
  }
  const ping = new Promise<boolean>((resolve) => {
    const req = request({ socketPath: host.slice('unix://'.length), path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
  return Promise.race([ping, timeout]);
}

export type EngineEnv = Readonly<Record<string, string | undefined>>;

/** Where agents of a pool are made, for error messages ("on unix:///var/run/docker.sock"). */
export function engineLabel(pool: Pick<PoolConfig, 'docker'>, env: EngineEnv): string {
  return pool.docker?.host ?? env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * `unix:///path` → the socket; `tcp://host:port` → https with the client certificate from
 * DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) when that is set or the port is 2376, else http.
 */
export function engineOptions(host: string, env: EngineEnv): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  const certPath = env.DOCKER_CERT_PATH;
  const tls = Boolean(certPath) || url.port === '2376' || env.DOCKER_TLS_VERIFY === '1';
  if (!tls) return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
  const read = (file: string) => (certPath ? readFileSync(join(certPath, file)) : undefined);
  return { host: url.hostname, port: Number(url.port || 2376), protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** One client per engine address, made on first use. */
export function createEngines(env: EngineEnv, given?: Docker): (pool: Pick<PoolConfig, 'docker'>) => Docker {
  const clients = new Map<string, Docker>();
  return (pool) => {
    const host = pool.docker?.host ?? '';
    let client = clients.get(host);
    if (!client) {
      const DockerClient = given && !host ? null : load();
      client = host ? new DockerClient!(engineOptions(host, env)) : given ?? new DockerClient!();
      clients.set(host, client);
    }
    return client;
  };
}

/** Where an agent container keeps the pool's git cache: a named volume that outlives the agents. */
export const GIT_CACHE_TARGET = '/var/lib/kiln-git-cache';

/**
 * The mount of the pool's git cache volume, `kiln-git-cache-<pool>` (made by the engine on
 * first use, on each node for a swarm). Why a volume and not a host folder: the engine may be
 * on another host. The agent image has the folder, owned by its user, so the new volume is.
 */
export function gitCacheMount(pool: Pick<PoolConfig, 'name'>): Docker.MountSettings {
  return {
    Type: 'volume', Source: `kiln-git-cache-${pool.name}`, Target: GIT_CACHE_TARGET,
    VolumeOptions: { NoCopy: false, Labels: { 'kiln.pool': pool.name }, DriverConfig: { Name: 'local', Options: {} } },
  };
}

/**
 * The environment every agent of `pool` gets. Never the token: only where its file is
 * (`tokenFile`, put there by the provider: see agent-token.ts).
 */
export function agentEnv(pool: PoolConfig, spec: { serverUrl: string; labels: readonly string[]; capacity: number }, name: string, tokenFile: string): string[] {
  const env: Record<string, string> = {
    KILN_GIT_CACHE: GIT_CACHE_TARGET,
    ...(pool.docker?.env ?? {}),
    KILN_SERVER: spec.serverUrl, KILN_AGENT_TOKEN_FILE: tokenFile, KILN_AGENT_NAME: name, KILN_POOL: pool.name,
    KILN_LABELS: spec.labels.join(','), KILN_CAPACITY: String(spec.capacity),
  };
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

export const DEFAULT_AGENT_IMAGE = 'kiln-agent:latest';

/** The image's user (`Config.User`); rejects with a clear one-line error when the agent image is not on the engine. */
export async function checkImage(docker: Docker, image: string, where: string): Promise<string> {
  try {
    return (await docker.getImage(image).inspect()).Config?.User ?? '';
  } catch (error) {
    const why = (error as { statusCode?: number }).statusCode === 404 ? 'no such image' : (error as Error).message.split('\n')[0];
    throw new Error(`agent image ${image} is not present on ${where}: ${why} (build or pull it there)`, { cause: error });
  }
}
