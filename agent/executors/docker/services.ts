// A job's service containers: started from the plan, their output in the job log, ready when their ports answer.
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import type { PlannedService, PullPolicy } from '../../../shared/pipeline/types.js';
import { daemonMessage } from './images.js';
import { acceptsTcp, probeAddress, type SidecarNetwork } from './network.js';
import { declaredVolumeMounts, imageFor, followLogs, pollUntil, removeContainer, resourceName, type LogFollower } from './sidecars-containers.js';

export interface StartServiceOptions {
  docker: Docker;
  service: PlannedService;
  jobId: number;
  labels: Record<string, string>;
  net: SidecarNetwork;
  /** `name:127.0.0.1` lines so that services on the host's network find each other by name too. */
  extraHosts: string[];
  pull: PullPolicy;
  log(text: string): void;
  signal: AbortSignal;
}

/**
 * A started service. Lifecycle:
 *
 *   startService ──▶ running (output → log as `[name] …`) ──▶ waitReady ──▶ … ──▶ stop()
 *                          └─▶ exits on its own: `[name] service exited with code N` in the log
 */
export interface RunningService {
  readonly name: string;
  readonly container: Docker.Container;
  /** Null while it runs; else how it ended (e.g. `exited with code 1`). */
  exited(): string | null;
  /** Resolves when it runs and each declared port accepts TCP; rejects (KilnError) on exit or timeout. */
  waitReady(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Stops and removes it after its last output is logged; safe twice; a missing container is fine. */
  stop(): Promise<void>;
}

export async function startService(o: StartServiceOptions): Promise<RunningService> {
  const { docker, service: s } = o;
  const what = `service "${s.name}"`;
  const image = await imageFor(docker, s.image, o.pull, what, o.log, o.signal);
  const labels = { ...o.labels, 'kiln.sidecar': `service:${s.name}` };
  const container = await docker.createContainer({
    name: resourceName(o.jobId, s.name),
    Image: s.image,
    Env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
    ...(s.command ? { Cmd: s.command } : {}),
    ...(s.entrypoint ? { Entrypoint: s.entrypoint } : {}),
    ...(o.net.mode === 'bridge' ? { Hostname: s.name } : {}),
    Labels: labels,
    HostConfig: {
      NetworkMode: o.net.mode === 'host' ? 'host' : o.net.name,
      ExtraHosts: o.net.mode === 'host' ? o.extraHosts : [],
      Mounts: declaredVolumeMounts(image, labels),
    },
    ...(o.net.mode === 'bridge' ? { NetworkingConfig: { EndpointsConfig: { [o.net.name]: { Aliases: [s.name] } } } } : {}),
  });
  let logs: LogFollower | null = null;
  let exit: string | null = null;
  let stopping = false;
  let silent = false; // after stop(): nothing more reaches the job log
  try {
    await container.start();
    logs = await followLogs(docker, container, (line) => { if (!silent) o.log(`[${s.name}] ${line}`); });
  } catch (error) {
    await removeContainer(container, 0).catch(() => {});
    throw new KilnError('internal', `${what} (${s.image}) could not start: ${daemonMessage(error)}`, { cause: error });
  }
  // Why wait for the logs to end: the exit line then follows the service's last output in the log.
  void container.wait().then(async (r: { StatusCode: number }) => {
    await logs?.ended;
    exit = `exited with code ${r.StatusCode}`;
    if (!stopping) o.log(`[${s.name}] service ${exit}`);
  }, () => { exit ??= 'gone'; });

  let stopped: Promise<void> | null = null;
  return {
    name: s.name,
    container,
    exited: () => exit,
    waitReady: (timeoutMs, signal) => waitReady(o, container, () => exit, timeoutMs, signal),
    stop: () => (stopped ??= (async () => {
      stopping = true;
      try {
        await removeContainer(container);
        // The output ends with the container; its last lines are still the job's.
        await Promise.race([logs?.ended, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      } finally {
        silent = true;
        logs?.close();
      }
    })()),
  };
}

async function waitReady(o: StartServiceOptions, container: Docker.Container, exited: () => string | null, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const s = o.service;
  const info = await container.inspect();
  if (s.ports.length === 0) {
    if (!info.State.Running) o.log(`service "${s.name}" is not running (${info.State.Status}, exit code ${info.State.ExitCode})`);
    return;
  }
  const host = probeAddress(o.docker, o.net, info);
  if (host === null) {
    o.log(`service "${s.name}" is running; its ports cannot be checked from this agent`);
    return;
  }
  for (const port of s.ports) {
    await pollUntil(async () => {
      const state = (await container.inspect()).State;
      const gone = exited() ?? (state.Running ? null : `exited with code ${state.ExitCode}`);
      if (gone) throw new KilnError('internal', `service "${s.name}" (${s.image}) ${gone} before port ${port} accepted connections; see its output above`);
      return acceptsTcp(host, port);
    }, {
      timeoutMs, signal,
      onTimeout: () => new KilnError('internal', `service "${s.name}" (${s.image}) did not accept connections on port ${port} within ${Math.round(timeoutMs / 1000)} s`),
    });
  }
  o.log(`service "${s.name}" is ready (port${s.ports.length > 1 ? 's' : ''} ${s.ports.join(', ')})`);
}
