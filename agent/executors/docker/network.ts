// How a job reaches its sidecars: a per-job bridge network with aliases, or the host's network with names → 127.0.0.1.
import { Socket, createServer } from 'node:net';
import type Docker from 'dockerode';
import { KilnError, badInput } from '../../../shared/errors.js';
import type { PlannedService } from '../../../shared/pipeline/types.js';
import { isMissing } from './sidecars-containers.js';

/** Where sidecars live: the host's network, or a per-job user-defined network (by name). */
export type SidecarNetwork = { mode: 'host' } | { mode: 'bridge'; name: string };

export const jobNetworkName = (jobId: number) => `kiln-job-${jobId}`;

/** Creates the job's network (labelled); a leftover of the same name from an earlier attempt is reused. */
export async function createJobNetwork(docker: Docker, jobId: number, labels: Record<string, string>, log: (text: string) => void): Promise<string> {
  const name = jobNetworkName(jobId);
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    log(`reusing network ${name} left from an earlier attempt`);
  }
  return name;
}

/** Removes a network; a missing one is fine. */
export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

/** On the host's network every declared port is the host's: two services must not declare the same one. */
export function checkPortClashes(services: PlannedService[]): void {
  const owner = new Map<number, string>();
  for (const s of services) {
    for (const port of s.ports) {
      const first = owner.get(port);
      if (first !== undefined && first !== s.name) {
        throw badInput(`services "${first}" and "${s.name}" both declare port ${port}; on host networking they share the host's ports, so each needs its own`);
      }
      owner.set(port, s.name);
    }
  }
}

/**
 * On the host's network a declared port must be free before its service starts: another job's
 * service (or a host process) on it would answer the readiness check and the job's own
 * connections in its place. Checked by binding it on 127.0.0.1 for a moment.
 */
export async function checkPortsFree(services: PlannedService[]): Promise<void> {
  for (const s of services) {
    for (const port of s.ports) {
      if (!(await portFree(port))) {
        throw new KilnError('conflict', `port ${port} of service "${s.name}" is already in use on this host (another job's service or a host process); on host networking services take the host's ports`);
      }
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A loopback port free right now (the kernel's pick); the caller retries if it is taken before use. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a TCP connection on `host:port` within `timeoutMs`. */
export function acceptsTcp(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Where the agent can reach a service's ports: on host networking the Docker host's loopback
 * (127.0.0.1 when the engine is local, which assumes the agent shares the host's network, as
 * an agent on the host or in a `--network host` container does), else the host of a tcp://
 * engine; on a bridge network the container's address there, reachable from a local engine's
 * host only. Null: the agent cannot reach it, and readiness falls back to "running".
 */
export function probeAddress(docker: Docker, net: SidecarNetwork, inspect: Docker.ContainerInspectInfo): string | null {
  const remote = (docker.modem as { host?: string }).host;
  if (net.mode === 'host') return remote ?? '127.0.0.1';
  if (remote) return null;
  return inspect.NetworkSettings.Networks[net.name]?.IPAddress || null;
}
