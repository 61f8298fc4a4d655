// Removes the containers, networks and volumes kiln labelled: one job's (teardown), or all of an agent's (start).
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import { daemonMessage } from './images.js';
import { labelFilters } from './labels.js';

export interface RemovedResources {
  containers: number;
  networks: number;
  volumes: number;
}

/**
 * At agent start: removes everything labelled with this agent (`kiln.agent=<name>`), which a
 * previous run of it left when it crashed. Other agents' resources are left alone. Why by
 * name: agents on one Docker host share the engine, so the name is what tells them apart.
 */
export function removeLeftovers(docker: Docker, agentName: string): Promise<RemovedResources> {
  return removeLabelled(docker, labelFilters(agentName));
}

/** At job teardown, as a safety net behind the executor's own removals: whatever the job left. */
export function removeJobResources(docker: Docker, agentName: string, jobId: number): Promise<RemovedResources> {
  return removeLabelled(docker, labelFilters(agentName, jobId));
}

/**
 * Containers first (force, with their anonymous volumes), then networks, then volumes: a
 * network or volume in use cannot go. A resource already gone (404) or being removed (409)
 * counts as removed; any other failure is reported after trying all the rest.
 */
async function removeLabelled(docker: Docker, filters: { label: string[] }): Promise<RemovedResources> {
  const failures: string[] = [];
  const attempt = async (what: string, remove: () => Promise<unknown>): Promise<number> => {
    try {
      await remove();
      return 1;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) return 1;
      failures.push(`${what}: ${daemonMessage(err)}`);
      return 0;
    }
  };
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

  const containers = await docker.listContainers({ all: true, filters });
  const removedContainers = sum(await Promise.all(containers.map((c) =>
    attempt(`container ${c.Id.slice(0, 12)}`, () => docker.getContainer(c.Id).remove({ force: true, v: true })))));
  const networks = await docker.listNetworks({ filters });
  const removedNetworks = sum(await Promise.all(networks.map((n) =>
    attempt(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove()))));
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  const removedVolumes = sum(await Promise.all(volumes.map((v) =>
    attempt(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove({ force: true })))));

  if (failures.length > 0) throw new KilnError('internal', `cannot remove ${failures.join('; ')}`);
  return { containers: removedContainers, networks: removedNetworks, volumes: removedVolumes };
}
