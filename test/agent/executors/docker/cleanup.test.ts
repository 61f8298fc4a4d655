// Removing what kiln labelled: a crashed agent's leftovers at start, one job's resources at teardown.
import { describe, expect, it } from 'vitest';
import { removeJobResources, removeLeftovers } from '../../../../agent/executors/docker/cleanup.js';
import { jobLabels } from '../../../../agent/executors/docker/labels.js';
import { skipDocker } from '../../../helpers/docker.js';
import { docker, expectNothingLeftAfterAll, managedResources, testAgentName } from './helpers.js';

describe.skipIf(skipDocker())('cleanup of labelled resources', () => {
  const crashed = testAgentName('cleanup-crashed');
  const other = testAgentName('cleanup-other');
  expectNothingLeftAfterAll(crashed);
  expectNothingLeftAfterAll(other);

  /** What a job of `agent` leaves when the agent dies mid-job: a running container and a volume. */
  async function leaveBehind(agent: string, jobId: number) {
    const labels = jobLabels(agent, jobId);
    const volume = await docker.createVolume({ Labels: labels });
    const container = await docker.createContainer({
      Image: 'busybox:latest', Cmd: ['sleep', '1000'], Labels: labels,
      HostConfig: { NetworkMode: 'none', Binds: [`${volume.name}:/data`] },
    });
    await container.start();
  }

  it("removes at start what this agent left when it crashed, and leaves other agents' resources alone", async () => {
    await leaveBehind(crashed, 1);
    await leaveBehind(crashed, 2);
    await leaveBehind(other, 1);
    expect(await removeLeftovers(docker, crashed)).toEqual({ containers: 2, networks: 0, volumes: 2 });
    expect(await managedResources(crashed)).toEqual([]);
    expect(await managedResources(other)).toHaveLength(2);
    expect(await removeLeftovers(docker, other)).toEqual({ containers: 1, networks: 0, volumes: 1 });
  });

  it("removes one job's resources and no other job's", async () => {
    await leaveBehind(crashed, 7);
    await leaveBehind(crashed, 8);
    expect(await removeJobResources(docker, crashed, 7)).toEqual({ containers: 1, networks: 0, volumes: 1 });
    expect(await managedResources(crashed, 7)).toEqual([]);
    expect(await managedResources(crashed, 8)).toHaveLength(2);
    expect(await removeJobResources(docker, crashed, 7)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    await removeJobResources(docker, crashed, 8);
  });
});
