// docker: dood — the job talks to the agent's own Docker engine: its socket mounted, or its tcp:// address.
import type Docker from 'dockerode';
import { badInput } from '../../../shared/errors.js';
import type { SidecarNetwork } from './network.js';

export interface DockerAccess { binds: string[]; env: Record<string, string> }

/**
 * dood: the job talks to the engine the agent uses. A unix socket is bind-mounted at
 * /var/run/docker.sock (the path as the agent sees it, which must be the host's path); a
 * tcp:// engine is passed as DOCKER_HOST instead, and the log says so.
 */
export async function doodAccess(docker: Docker, net: SidecarNetwork, log: (text: string) => void): Promise<DockerAccess> {
  const m = docker.modem as { host?: string; port?: string | number; protocol?: string; socketPath?: string | (() => Promise<string>) };
  if (m.host) {
    if (m.protocol === 'ssh') throw badInput(`docker: dood needs the agent's Docker engine on a unix socket or tcp://, not ssh://${m.host}`);
    const url = `tcp://${m.host}:${m.port ?? (m.protocol === 'https' ? 2376 : 2375)}`;
    const tls = m.protocol === 'https';
    log(`docker: dood: the agent's engine is ${url}, not a socket, so the job gets DOCKER_HOST=${url}` +
      (tls ? ' with DOCKER_TLS_VERIFY=1 (the job must bring the client certificates)' : '') +
      (net.mode === 'bridge' && /^(localhost|127\.)/.test(m.host) ? ' (a loopback address: unreachable from a bridge network)' : ''));
    return { binds: [], env: tls ? { DOCKER_HOST: url, DOCKER_TLS_VERIFY: '1' } : { DOCKER_HOST: url } };
  }
  const socket = typeof m.socketPath === 'function' ? await m.socketPath() : (m.socketPath ?? '/var/run/docker.sock');
  return { binds: [`${socket}:/var/run/docker.sock`], env: {} };
}
