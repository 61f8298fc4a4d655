// The agent owner's settings for the job's environment: a CA bundle and volumes for job
// containers, and the names of the agent's variables that host jobs may see. Parsed from the
// strings config.ts read; each bad value throws a KilnError with one line that names the option.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KilnError } from '../shared/errors.js';

/** A host folder or file the agent's owner lets every job container of this agent mount. */
export interface DockerVolume {
  /** Absolute, on the Docker engine's host. */
  host: string;
  /** Absolute, inside the job container. */
  container: string;
  readOnly: boolean;
}

/** What is at a path: `file`, `directory`, `other`, or null when nothing is (or it cannot be seen). */
export type PathKind = 'file' | 'directory' | 'other' | null;

export function statPathKind(path: string): PathKind {
  try {
    const stat = statSync(path);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other';
  } catch {
    return null;
  }
}

/** Where the job container's bundle goes; the image's own bundle is there on Debian, Ubuntu and Alpine. */
export const CA_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';
/** Container paths an agent volume may not take: the step files' folder (more are passed in: the work folder, the CA bundle's place). */
const RESERVED = ['/.kiln'];

const bad = (message: string) => new KilnError('bad_input', message);

export interface PathCheck {
  cwd: string;
  /** False when the engine is remote (tcp://, ssh://): its host's paths cannot be seen from here. */
  local: boolean;
  pathKind: (path: string) => PathKind;
}

/** `--docker-ca-bundle FILE`: a PEM bundle, relative to the working folder; it must be a file when the engine is local. */
export function parseCaBundle(option: string, text: string | undefined, check: PathCheck): string | null {
  if (!text?.trim()) return null;
  const path = resolve(check.cwd, text.trim());
  if (!check.local) return path;
  const kind = check.pathKind(path);
  if (kind === null) throw bad(`${option}: ${path} does not exist (give the host's CA bundle, e.g. /etc/ssl/certs/ca-certificates.crt)`);
  if (kind !== 'file') throw bad(`${option}: ${path} is not a file (give a PEM bundle such as /etc/ssl/certs/ca-certificates.crt)`);
  return path;
}

/**
 * `--docker-volumes /srv/cache:/cache,/srv/ref:/ref:ro`: entries split by commas or new lines,
 * each `host:container` (read-write) or `host:container:ro|rw`. Both paths absolute, without
 * `..`, and so without `:` or `,` in them; each container path once; the host path must exist
 * when the engine is local (Docker would make an empty root-owned folder in its place).
 */
export function parseVolumes(option: string, text: string | undefined, check: PathCheck, reserved: string[] = []): DockerVolume[] {
  const entries = (text ?? '').split(/[,\n]/).map((e) => e.trim()).filter(Boolean);
  const volumes: DockerVolume[] = [];
  for (const entry of entries) {
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3) throw bad(`${option}: "${entry}" is not host:container or host:container:ro`);
    const [host, container, mode = 'rw'] = parts as [string, string, string?];
    if (mode !== 'ro' && mode !== 'rw') throw bad(`${option}: "${entry}": the mode is ro or rw, got "${mode}"`);
    for (const [which, path] of [['host', host], ['container', container]] as const) {
      if (!path.startsWith('/')) throw bad(`${option}: "${entry}": the ${which} path must be absolute`);
      if (path.split('/').includes('..')) throw bad(`${option}: "${entry}": ".." is not allowed in the ${which} path`);
    }
    const inside = clean(container);
    if (inside === '/') throw bad(`${option}: "${entry}": a volume cannot be mounted at /`);
    const taken = [...RESERVED, ...reserved].find((r) => overlaps(inside, r));
    if (taken !== undefined) throw bad(`${option}: "${entry}": ${inside} overlaps ${taken}, which kiln mounts in every job container`);
    const twice = volumes.find((v) => overlaps(v.container, inside));
    if (twice) throw bad(`${option}: "${entry}": ${inside} overlaps ${twice.container}, already mounted from ${twice.host}`);
    if (check.local && check.pathKind(clean(host)) === null) throw bad(`${option}: "${entry}": ${clean(host)} does not exist on this host`);
    volumes.push({ host: clean(host), container: inside, readOnly: mode === 'ro' });
  }
  return volumes;
}

/** `/a//b/` → `/a/b`. */
const clean = (path: string) => path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
/** Whether one path is the other or inside it. */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * `KILN_AGENT_ENV_PASSTHROUGH=NODE_EXTRA_CA_CERTS,SSL_*`: names or globs (`*` any characters,
 * `?` one), split by commas or white space, case-sensitive. kiln's own variables (`KILN_*`,
 * any case: its tokens and settings) are never passed: a pattern that could only match them
 * is refused here, and a broader glob (`K*`, `*`) skips them when the job's variables are picked.
 */
export function parseEnvPassthrough(option: string, text: string | undefined): string[] {
  const patterns = [...new Set((text ?? '').split(/[\s,]+/).filter(Boolean))];
  for (const pattern of patterns) {
    if (!/^[A-Za-z0-9_*?]+$/.test(pattern)) throw bad(`${option}: "${pattern}" is not a variable name or glob (letters, digits, _, * and ?)`);
    if (/^KILN_/i.test(pattern)) throw bad(`${option}: "${pattern}": kiln's own variables (KILN_*, its tokens and settings) are never passed to jobs`);
  }
  return patterns;
}
