// docker: dind — a private Docker daemon for the job, its storage in a labelled volume, removed after.
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import { DIND_ALIAS, DIND_IMAGE, dindCommand, dindHostConfig, type DindSecurity } from './dind-settings.js';
import { daemonMessage } from './images.js';
import { freeLoopbackPort, type SidecarNetwork } from './network.js';
import { declaredVolumeMounts, imageFor, isMissing, pollUntil, removeContainer, resourceName, tailOutput } from './sidecars-containers.js';

export interface DindOptions {
  docker: Docker;
  jobId: number;
  labels: Record<string, string>;
  net: SidecarNetwork;
  security: DindSecurity;
  timeoutMs: number;
  log(text: string): void;
  signal: AbortSignal;
}

export interface DindDaemon {
  /** DOCKER_HOST for the job: tcp://127.0.0.1:<port> on the host's network, tcp://dind:2375 on a job network. */
  readonly url: string;
  /** Removes the daemon's container and its storage volume; safe twice; missing ones are fine. */
  stop(): Promise<void>;
}

/**
 * Starts the daemon and resolves once `docker version` against it answers (checked by an exec
 * in its own container, so it works wherever the agent runs). On the host's network the port
 * is a free loopback port picked here; if another process takes it first, dockerd exits with
 * "address already in use" and a new port is tried (3 attempts).
 */
export async function startDind(o: DindOptions): Promise<DindDaemon> {
  const started = Date.now();
  const image = await imageFor(o.docker, DIND_IMAGE, 'if-not-present', 'docker: dind', o.log, o.signal);
  const labels = { ...o.labels, 'kiln.sidecar': 'dind' };
  const volume = resourceName(o.jobId, 'dind');
  await o.docker.createVolume({ Name: volume, Labels: labels });
  let container: Docker.Container | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    if (container) await removeContainer(container, 2);
    try { await o.docker.getVolume(volume).remove(); } catch (error) { if (!isMissing(error)) throw error; }
  })());
  try {
    for (let attempt = 1; ; attempt++) {
      const port = o.net.mode === 'host' ? await freeLoopbackPort() : 2375;
      try {
        container = await createDaemon(o, image, labels, volume, port);
        await container.start();
      } catch (error) {
        const why = daemonMessage(error);
        const hint = o.security.privileged && /not permitted/i.test(why) ? ' (this host seems to refuse privileged containers: configure the explicit capability set)' : '';
        throw new KilnError('internal', `docker: dind: the daemon's container could not start: ${why}${hint}`, { cause: error });
      }
      const exitOutput = await waitAnswer(container, port, o);
      if (exitOutput === null) {
        const url = o.net.mode === 'host' ? `tcp://127.0.0.1:${port}` : `tcp://${DIND_ALIAS}:${port}`;
        o.log(`docker: dind: daemon ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return { url, stop };
      }
      if (attempt >= 3 || o.net.mode !== 'host' || !/address already in use/i.test(exitOutput)) {
        throw new KilnError('internal', `docker: dind: the daemon exited before answering; its last output:\n${exitOutput}`);
      }
      await removeContainer(container, 0);
    }
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

function createDaemon(o: DindOptions, image: Docker.ImageInspectInfo, labels: Record<string, string>, volume: string, port: number): Promise<Docker.Container> {
  const net = o.net;
  return o.docker.createContainer({
    name: resourceName(o.jobId, 'dind'),
    Image: DIND_IMAGE,
    Cmd: dindCommand(image.Config.Entrypoint as string[] | null, net, port, o.security),
    Env: ['DOCKER_TLS_CERTDIR='],
    Labels: labels,
    HostConfig: {
      ...dindHostConfig(o.security),
      NetworkMode: net.mode === 'host' ? 'host' : net.name,
      // Why a named volume at /var/lib/docker: overlay storage cannot sit on the container's own
      // overlay root, and the image's VOLUME would otherwise make an unlabelled anonymous volume.
      Mounts: [{ Type: 'volume', Source: volume, Target: '/var/lib/docker' }, ...declaredVolumeMounts(image, labels, ['/var/lib/docker'])],
    },
    ...(net.mode === 'bridge' ? { NetworkingConfig: { EndpointsConfig: { [net.name]: { Aliases: [DIND_ALIAS] } } } } : {}),
  });
}

/** Null once the daemon answers, or its last output when it exited first; rejects (KilnError) on timeout. */
async function waitAnswer(container: Docker.Container, port: number, o: DindOptions): Promise<string | null> {
  let exitedOutput: string | null = null;
  await pollUntil(async () => {
    if (!(await container.inspect()).State.Running) {
      exitedOutput = await tailOutput(container);
      return true;
    }
    return (await execCode(container, ['docker', '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}'])) === 0;
  }, {
    timeoutMs: o.timeoutMs, signal: o.signal,
    onTimeout: () => new KilnError('internal', `docker: dind: the daemon did not answer within ${Math.round(o.timeoutMs / 1000)} s`),
  }).catch(async (error) => {
    if (error instanceof KilnError) error.message += `; its last output:\n${await tailOutput(container)}`;
    throw error;
  });
  return exitedOutput;
}

/** Runs a command in a running container and resolves its exit code (null if it could not run). */
async function execCode(container: Docker.Container, cmd: string[]): Promise<number | null> {
  try {
    const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 5000);
      function done() { clearTimeout(timer); stream.destroy(); resolve(); }
      stream.on('data', () => {});
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    return (await exec.inspect()).ExitCode;
  } catch {
    return null;
  }
}
