// The agent's start on a real engine: the probe and the leftover check over plain HTTP, the
// leftovers of a crashed run removed, and no engine at a socket where none listens.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadDockerConfig } from '../../../../agent/config.js';
import { connectDocker } from '../../../../agent/executors/docker/engine.js';
import { jobLabels } from '../../../../agent/executors/docker/labels.js';
import { skipDocker } from '../../../helpers/docker.js';
import { docker, expectNothingLeftAfterAll, managedResources, testAgentName } from './helpers.js';

const logger = pino({ level: 'silent' });

describe.skipIf(skipDocker())('connecting to the Docker engine at start', () => {
  const agent = testAgentName('engine-start');
  expectNothingLeftAfterAll(agent);

  it('finds nothing to remove on a clean engine, and hands out a client that talks to it', async () => {
    const engine = await connectDocker(loadDockerConfig({}, {}), agent, logger);
    expect(engine).not.toBeNull();
    expect(String(await (await engine!.client()).ping())).toBe('OK');
  });

  it('removes what a crashed run of this agent left: a running container and its volume', async () => {
    const labels = jobLabels(agent, 5);
    const volume = await docker.createVolume({ Labels: labels });
    const container = await docker.createContainer({
      Image: 'busybox:latest', Cmd: ['sleep', '1000'], Labels: labels, HostConfig: { NetworkMode: 'none', Binds: [`${volume.name}:/data`] },
    });
    await container.start();
    expect(await managedResources(agent)).toHaveLength(2);
    expect(await connectDocker(loadDockerConfig({}, {}), agent, logger)).not.toBeNull();
    expect(await managedResources(agent)).toEqual([]);
  });

  it('is null when no engine listens at the configured socket, and with --no-docker', async () => {
    expect(await connectDocker(loadDockerConfig({ dockerHost: 'unix:///nonexistent/docker.sock' }, {}), agent, logger)).toBeNull();
    expect(await connectDocker(loadDockerConfig({ noDocker: true }, {}), agent, logger)).toBeNull();
  });
});
