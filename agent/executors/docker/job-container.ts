// The job container: made from the job's image, kept alive by a tiny loop, the workspace at its host path.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import { CA_BUNDLE_PATH, type DockerVolume } from '../../job-env-config.js';
import { daemonMessage } from './images.js';
import { declaredVolumeMounts } from './sidecars-containers.js';

/**
 * PID 1 of the job container. `sh` and `sleep` are in every image a step could run in (busybox,
 * Debian, Alpine…). Sitting in `wait`, the shell reaps the orphans of stopped steps, so none
 * lingers as a zombie; TERM ends it at once.
 */
export const KEEP_ALIVE = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait; done'];

const CA_PATH = CA_BUNDLE_PATH;

export interface JobContainerOptions {
  docker: Docker;
  image: string;
  /** Its configuration (user, declared volumes), from `docker image inspect`. */
  imageInfo: Docker.ImageInspectInfo;
  name: string;
  /** null: the image's user. */
  user: string | null;
  /** Mounted at the same path, and the working directory. */
  workspace: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  networkMode: string;
  binds: string[];
  extraHosts: string[];
  /** A host CA bundle to mount over the image's, for registries behind an intercepting proxy. */
  caBundle: string | null;
  /** The agent's volumes (`--docker-volumes`): a pipeline has no way to add any. */
  volumes: readonly DockerVolume[];
}

/** A Docker-safe container name for a job: `kiln-<agent>-job<id>-<random>`. */
export function jobContainerName(agentName: string, jobId: number): string {
  const agent = agentName.replace(/[^a-zA-Z0-9_.-]+/g, '_').slice(0, 40);
  return `kiln-${agent}-job${jobId}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates and starts the container; rejects with a one-line KilnError ("cannot start the job
 * container from X: <daemon message>") after removing what it created.
 */
export async function startJobContainer(o: JobContainerOptions): Promise<Docker.Container> {
  const env = { ...o.env };
  const binds = [`${o.workspace}:${o.workspace}`, ...o.binds, ...o.volumes.map((v) => `${v.host}:${v.container}:${v.readOnly ? 'ro' : 'rw'}`)];
  if (o.caBundle) {
    // Node keeps its own CA store (hence NODE_EXTRA_CA_CERTS); OpenSSL-based tools of images
    // whose bundle lives elsewhere (Fedora, RHEL) find it by SSL_CERT_FILE. A job's own values win.
    binds.push(`${o.caBundle}:${CA_PATH}:ro`);
    env.NODE_EXTRA_CA_CERTS ??= CA_PATH;
    env.SSL_CERT_FILE ??= CA_PATH;
  }
  let container: Docker.Container | null = null;
  try {
    container = await o.docker.createContainer({
      name: o.name,
      Image: o.image,
      Entrypoint: KEEP_ALIVE,
      Cmd: [],
      WorkingDir: o.workspace,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: o.labels,
      ...(o.user !== null ? { User: o.user } : {}),
      HostConfig: {
        NetworkMode: o.networkMode,
        Binds: binds,
        ExtraHosts: o.extraHosts,
        // Volumes the image declares get our labels, so a crashed agent's cleanup finds them.
        // Those at a path mounted here (the workspace, an agent volume) would clash with it: Docker refuses duplicate mount points.
        Mounts: declaredVolumeMounts(o.imageInfo, o.labels, [o.workspace, ...o.volumes.map((v) => v.container), ...(o.caBundle ? [CA_PATH] : [])]),
      },
    });
    await container.start();
    return container;
  } catch (err) {
    await container?.remove({ force: true, v: true }).catch(() => undefined);
    throw new KilnError('internal', `cannot start the job container from ${o.image}: ${daemonMessage(err)}`, { cause: err });
  }
}

/** `the CA bundle /etc/ssl/certs/ca-certificates.crt, /srv/ref at /ref (read-only)`, or '' when the agent mounts nothing. */
export function describeAgentMounts(caBundle: string | null, volumes: readonly DockerVolume[]): string {
  const parts = caBundle ? [`the CA bundle ${caBundle} at ${CA_PATH}`] : [];
  for (const v of volumes) parts.push(`${v.host} at ${v.container} (${v.readOnly ? 'read-only' : 'read-write'})`);
  return parts.join(', ');
}

/** Whether steps run as root: `user:` if set, else the image's user. */
export function runsAsRoot(user: string | null, imageInfo: Docker.ImageInspectInfo): boolean {
  const name = (user ?? imageInfo.Config?.User ?? '').split(':')[0] ?? '';
  return name === '' || name === 'root' || name === '0';
}
