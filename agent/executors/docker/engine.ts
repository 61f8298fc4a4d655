// The agent's Docker engine: probed at start when configured (and this agent's leftovers
// removed), with dockerode loaded only when something needs it; null when no engine answers.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerConfig } from '../../config.js';
import { removeLeftovers } from './cleanup.js';
import { dockerGet, probeTarget } from './engine-probe.js';
import { labelFilters } from './labels.js';

/**
 * A Docker engine that answered. Why lazy: dockerode brings gRPC and SSH clients, about 25 MiB
 * of an agent's memory, and most agents run only host jobs; the first docker job loads it.
 */
export interface DockerEngine {
  client(): Promise<Docker>;
}

export async function connectDocker(config: DockerConfig, agentName: string, logger: Logger): Promise<DockerEngine | null> {
  if (!config.enabled) return null;
  let loaded: Promise<Docker> | null = null;
  const engine: DockerEngine = { client: () => (loaded ??= loadClient(config)) };
  const target = probeTarget(config);
  const answered = await withTimeout(target ? dockerGet(target, '/_ping').then((r) => r !== null) : engine.client().then((d) => d.ping()).then(() => true, () => false), 3000);
  if (!answered) {
    logger.info({ host: config.host ?? 'default socket' }, 'no Docker engine answers: image jobs are not taken');
    return null;
  }
  try {
    // Most starts find nothing: asked over plain HTTP, the answer costs no dockerode.
    if (target && !(await hasLeftovers(target, agentName))) logger.info({ removed: null }, 'docker engine ready; no leftovers of this agent');
    else logger.info({ removed: await removeLeftovers(await engine.client(), agentName) }, 'docker engine ready; leftovers of this agent removed');
  } catch (err) {
    logger.warn({ err }, 'cannot remove docker leftovers');
  }
  return engine;
}

async function hasLeftovers(target: NonNullable<ReturnType<typeof probeTarget>>, agentName: string): Promise<boolean> {
  const filters = encodeURIComponent(JSON.stringify(labelFilters(agentName)));
  const [containers, networks, volumes] = await Promise.all([
    dockerGet(target, `/containers/json?all=1&filters=${filters}`),
    dockerGet(target, `/networks?filters=${filters}`),
    dockerGet(target, `/volumes?filters=${filters}`),
  ]);
  if (volumes === null || typeof volumes !== 'object') return true; // no clear answer: look through dockerode
  const found = [containers, networks, (volumes as { Volumes?: unknown[] | null }).Volumes ?? []];
  return found.some((list) => !Array.isArray(list) || list.length > 0);
}

async function loadClient(config: DockerConfig): Promise<Docker> {
  const { default: DockerClient } = await import('dockerode');
  return config.host ? new DockerClient(engineOptions(config.host)) : new DockerClient();
}

/** `unix:///path` or `tcp://host:port` → dockerode options. */
function engineOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}

function withTimeout(answer: Promise<boolean>, ms: number): Promise<boolean> {
  return Promise.race([answer.catch(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
}
