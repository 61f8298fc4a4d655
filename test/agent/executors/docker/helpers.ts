// Shared by the Docker executor tests: the engine, a test agent name, jobs, and the no-leftovers check.
import Docker from 'dockerode';
import { afterAll, expect } from 'vitest';
import { removeLeftovers } from '../../../../agent/executors/docker/cleanup.js';
import { labelFilters } from '../../../../agent/executors/docker/labels.js';
import type { PlannedJob } from '../../../../shared/pipeline/types.js';
import { plannedJob } from '../../../helpers/plan.js';

export const docker = new Docker();

/** Why a name per file: test files run in parallel, and each must only see and clean its own. */
export function testAgentName(file: string): string {
  return `test-${file}-${process.pid}`;
}

export function dockerJob(overrides: Partial<PlannedJob> = {}): PlannedJob {
  return plannedJob([], { image: 'busybox:latest', ...overrides });
}

/** Containers, networks and volumes with `kiln.managed=true` and this agent's label, described. */
export async function managedResources(agentName: string, jobId?: number): Promise<string[]> {
  const filters = labelFilters(agentName, jobId);
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names.join(',')} (${c.State})`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

/** After the file: nothing kiln made for `agentName` remains (what does is removed, then reported). */
export function expectNothingLeftAfterAll(agentName: string): void {
  afterAll(async () => {
    const left = await managedResources(agentName);
    await removeLeftovers(docker, agentName);
    expect(left).toEqual([]);
  });
}
