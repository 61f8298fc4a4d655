// The agent's Docker engine: connected at start when configured and answering, with the
// leftovers of an earlier run of this agent removed; null when there is none.
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerConfig } from '../../config.js';
import { removeLeftovers } from './cleanup.js';

export async function connectDocker(config: DockerConfig, agentName: string, logger: Logger): Promise<Docker | null> {
  if (!config.enabled) return null;
  const docker = config.host ? new Docker(engineOptions(config.host)) : new Docker();
  const answered = await Promise.race([
    docker.ping().then(() => true, () => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref()),
  ]);
  if (!answered) {
    logger.info({ host: config.host ?? 'default socket' }, 'no Docker engine answers: image jobs are not taken');
    return null;
  }
  try {
    const removed = await removeLeftovers(docker, agentName);
    logger.info({ removed }, 'docker engine ready; leftovers of this agent removed');
  } catch (err) {
    logger.warn({ err }, 'cannot remove docker leftovers');
  }
  return docker;
}

/** `unix:///path` or `tcp://host:port` → dockerode options. */
function engineOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}
