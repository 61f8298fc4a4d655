// A job's sidecars — services, and Docker for the steps (dood or dind) — started before its first step, removed after.
import type Docker from 'dockerode';
import { badInput } from '../../../shared/errors.js';
import { JOB_NAME_PATTERN } from '../../../shared/pipeline/schema.js';
import type { PlannedJob } from '../../../shared/pipeline/types.js';
import { DIND_ALIAS, type DindSecurity } from './dind-settings.js';
import { startDind } from './dind.js';
import { jobLabels } from './labels.js';
import { checkPortClashes, checkPortsFree, createJobNetwork, removeNetwork, type SidecarNetwork } from './network.js';
import { startService, type RunningService } from './services.js';
import { doodAccess, type DockerAccess } from './sidecars-dood.js';

export type { DindSecurity } from './dind-settings.js';

export interface SidecarOptions {
  docker: Docker;
  job: PlannedJob;
  jobId: number;
  agentName: string;
  /** 'host': sidecars share the host's network (names → 127.0.0.1); 'bridge': a per-job network with aliases. */
  network: 'host' | 'bridge';
  dind: DindSecurity;
  /** System lines for the job log; service output arrives here as `[name] line`. */
  log(text: string): void;
  /** Aborting gives up starting: what was started is removed and startSidecars rejects with the reason. */
  signal: AbortSignal;
  /** How long a service's ports, or the dind daemon, may take to answer; default 60 s. */
  readyTimeoutMs?: number;
}

/** What the job container needs to reach its sidecars, and how to remove them. */
export interface Sidecars {
  /** The NetworkMode the job container must use ('host', the per-job network's name, or 'bridge' when there is nothing to reach). */
  network: string;
  /** e.g. DOCKER_HOST for dind or for dood through a tcp:// engine. */
  env: Record<string, string>;
  /** e.g. `db:127.0.0.1` on host networking. */
  extraHosts: string[];
  /** e.g. `/var/run/docker.sock:/var/run/docker.sock` for dood. */
  binds: string[];
  /** Stops and removes what startSidecars made (containers, then volumes and network); safe twice; never rejects for a missing resource. */
  stop(): Promise<void>;
}

/**
 *   checks (names, ports) ─▶ network ─▶ services ∥ dind, started ─▶ all ready ─▶ Sidecars
 *                                      any failure or abort ─▶ stop() what was made ─▶ reject
 *
 * Rejects with a KilnError the job log can show as is: a port clash, a missing image, a
 * service that exited or did not answer, a daemon that did not start.
 */
export async function startSidecars(o: SidecarOptions): Promise<Sidecars> {
  o.signal.throwIfAborted();
  const services = o.job.services;
  const dind = o.job.docker === 'dind';
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  const labels = jobLabels(o.agentName, o.jobId);
  checkNames(o.job);
  if (o.network === 'host') {
    checkPortClashes(services);
    await checkPortsFree(services);
  }
  const removals: Array<() => Promise<void>> = [];
  let networkName: string | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= stopAll(o.docker, removals, networkName));
  try {
    let net: SidecarNetwork = { mode: 'host' };
    if (o.network === 'bridge' && (services.length > 0 || dind)) {
      networkName = await createJobNetwork(o.docker, o.jobId, labels, o.log);
      net = { mode: 'bridge', name: networkName };
    }
    const dood = o.job.docker === 'dood' ? await doodAccess(o.docker, net, o.log) : null;
    const extraHosts = net.mode === 'host' ? services.map((s) => `${s.name}:127.0.0.1`) : [];
    if (services.length > 0) o.log(`services: starting ${services.map((s) => `${s.name} (${s.image})`).join(', ')}`);
    const started = await Promise.allSettled([
      ...services.map((service) => startService({ docker: o.docker, service, jobId: o.jobId, labels, net, extraHosts, pull: o.job.pull, log: o.log, signal: o.signal })),
      dind ? startDind({ docker: o.docker, jobId: o.jobId, labels, net, security: o.dind, timeoutMs, log: o.log, signal: o.signal }) : null,
    ]);
    for (const r of started) if (r.status === 'fulfilled' && r.value) removals.push(r.value.stop);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const running = started.slice(0, services.length).map((r) => (r as PromiseFulfilledResult<RunningService>).value);
    await Promise.all(running.map((s) => s.waitReady(timeoutMs, o.signal)));
    const daemon = dind ? (started[services.length] as PromiseFulfilledResult<{ url: string }>).value : null;
    const access: DockerAccess = dood ?? { binds: [], env: daemon ? { DOCKER_HOST: daemon.url } : {} };
    return { network: networkName ?? (net.mode === 'host' ? 'host' : 'bridge'), env: access.env, extraHosts, binds: access.binds, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** Names are host names here (the plan checked them; a hand-made plan may not be): unique, and not the daemon's. */
function checkNames(job: PlannedJob): void {
  const seen = new Set<string>();
  for (const s of job.services) {
    if (!JOB_NAME_PATTERN.test(s.name)) throw badInput(`service name "${s.name}" is not a host name (letters, digits, _, . and -)`);
    if (seen.has(s.name)) throw badInput(`service "${s.name}" is declared twice`);
    if (job.docker === 'dind' && s.name === DIND_ALIAS) throw badInput(`service name "${DIND_ALIAS}" is taken by the job's Docker daemon (docker: dind)`);
    seen.add(s.name);
  }
}

// Containers first (in parallel), then the network they were on; every removal is tried, and
// the first real failure is rethrown after all were tried.
async function stopAll(docker: Docker, removals: Array<() => Promise<void>>, network: string | null): Promise<void> {
  const results = await Promise.allSettled(removals.map((remove) => remove()));
  if (network) results.push(...(await Promise.allSettled([removeNetwork(docker, network)])));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
