// kiln's own Docker images for tests: built from Dockerfile.agent / Dockerfile.server once per
// content (tag `kiln-<kind>:test-<hash>`), so every suite that needs one shares the build.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BASE_IMAGE = 'node:20-bookworm-slim';
/** What the Dockerfiles read from the context; a change to any of it means a new image. */
const INPUTS = ['.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'shared', 'server', 'agent', 'scripts'];
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';
const BUILD_TIMEOUT_MS = 15 * 60_000;

const built = new Map<string, Promise<string>>();

/**
 * The image reference of kiln's agent or server image for the current sources, building it
 * when no image of this content exists yet (minutes the first time, seconds after that: the
 * dependency layers stay cached by the engine). Safe to call from parallel test files: one
 * builds, the others wait for it.
 */
export function ensureKilnImage(kind: 'agent' | 'server'): Promise<string> {
  let promise = built.get(kind);
  if (!promise) {
    promise = buildOnce(kind);
    built.set(kind, promise);
    promise.catch(() => built.delete(kind));
  }
  return promise;
}

async function buildOnce(kind: 'agent' | 'server'): Promise<string> {
  const dockerfile = `Dockerfile.${kind}`;
  const tag = `kiln-${kind}:test-${contentHash([dockerfile, ...INPUTS])}`;
  if (await imageExists(tag)) return tag;
  // Why one lock folder for all kiln images: vitest runs files in parallel processes; two
  // builds at once would compile the same dependency stage twice on a small CI machine,
  // while one after the other the second reuses the first one's cached layers.
  const lock = join(tmpdir(), 'kiln-image-build.lock');
  while (!tryLock(lock)) {
    await sleep(1000);
    if (await imageExists(tag)) return tag;
  }
  try {
    if (await imageExists(tag)) return tag;
    const client = buildClient();
    const args = ['build', '--network', 'host', '-f', join(ROOT, dockerfile), '-t', tag];
    if (existsSync(HOST_CA)) args.push('--secret', `id=ca,src=${HOST_CA}`);
    const headers = await nodeHeadersImage(client);
    if (headers) args.push('--build-arg', `NODE_HEADERS_IMAGE=${headers}`);
    args.push(ROOT);
    try {
      await exec(client.bin, args, { env: client.env, timeout: BUILD_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
    } catch (error) {
      const output = String((error as { stderr?: string }).stderr ?? '').split('\n').slice(-40).join('\n');
      throw new Error(`docker build of ${dockerfile} failed:\n${output}`, { cause: error });
    }
    await removeOlderTestImages(kind, tag);
    return tag;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function contentHash(paths: string[]): string {
  const hash = createHash('sha256');
  const add = (rel: string) => {
    const full = join(ROOT, rel);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(join(rel, entry));
      return;
    }
    hash.update(`${rel}\0`).update(readFileSync(full)).update('\0');
  };
  for (const path of paths) add(path);
  return hash.digest('hex').slice(0, 16);
}

interface BuildClient { bin: string; env: NodeJS.ProcessEnv }

/**
 * A docker client that builds with BuildKit (the Dockerfiles use build secrets and mounts):
 * `docker` with the buildx plugin, else the first `docker` on PATH that still has the
 * built-in BuildKit client (Docker 20.10–22 with DOCKER_BUILDKIT=1).
 */
function buildClient(): BuildClient {
  const env = { ...process.env, DOCKER_BUILDKIT: '1' };
  const quiet = { env, stdio: ['ignore', 'pipe', 'pipe'] as Array<'ignore' | 'pipe'>, encoding: 'utf8' as const, timeout: 20_000 };
  try {
    execFileSync('docker', ['buildx', 'version'], quiet);
    return { bin: 'docker', env };
  } catch {
    // no buildx plugin: look for a client with BuildKit built in
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const bin = join(dir, 'docker');
    try {
      accessSync(bin, constants.X_OK);
      if (execFileSync(bin, ['build', '--help'], quiet).includes('--secret')) return { bin, env };
    } catch {
      // not there, or a client without BuildKit
    }
  }
  throw new Error('building kiln images needs BuildKit: install the docker buildx plugin (or use a Docker 20.10–22 client with DOCKER_BUILDKIT=1)');
}

/**
 * Where the base image has no Node headers (a locally made base; the official node images ship
 * them) and npm cannot download them or a prebuilt better-sqlite3, the build compiles against
 * this machine's headers when they are of the base image's exact Node version: they go into a
 * small image named by NODE_HEADERS_IMAGE. Null when the base image has its own.
 */
async function nodeHeadersImage(client: BuildClient): Promise<string | null> {
  const probe = "process.version+' '+require('fs').existsSync('/usr/local/include/node/node_version.h')";
  const { stdout } = await exec('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'node', BASE_IMAGE, '-p', probe]);
  const [version, has] = stdout.trim().split(' ');
  if (has === 'true') return null;
  const local = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (process.version !== version || !existsSync(join(local, 'node_version.h'))) return null;
  const tag = `kiln-node-headers:${version}`;
  if (await imageExists(tag)) return tag;
  const context = mkdtempSync(join(tmpdir(), 'kiln-node-headers-'));
  try {
    mkdirSync(join(context, 'usr/local/include'), { recursive: true });
    cpSync(local, join(context, 'usr/local/include/node'), { recursive: true, dereference: true });
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY usr /usr\n');
    await exec(client.bin, ['build', '-q', '-t', tag, context], { env: client.env, timeout: 120_000 });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

async function imageExists(ref: string): Promise<boolean> {
  try {
    await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
    return true;
  } catch {
    return false;
  }
}

/** Untags the test images of earlier sources (each is a few MB of its own; layers are shared). */
async function removeOlderTestImages(kind: string, keep: string): Promise<void> {
  const { stdout } = await exec('docker', ['image', 'ls', `kiln-${kind}`, '--format', '{{.Repository}}:{{.Tag}}']);
  const old = stdout.split('\n').filter((ref) => ref.startsWith(`kiln-${kind}:test-`) && ref !== keep);
  for (const ref of old) await exec('docker', ['rmi', ref]).catch(() => {}); // in use by a running test: leave it
}

/** mkdir as a lock between processes; a lock older than a build's timeout is a crashed build's. */
function tryLock(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(path).mtimeMs > BUILD_TIMEOUT_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The agent image for pool tests: ensureKilnImage('agent'), or, when its build fails, a
 * stand-in tagged `tag`: node:20-bookworm-slim with this build's dist/ and node_modules,
 * running `kiln agent` (configured by the environment the provider sets).
 */
export async function agentImageForPools(tag: string): Promise<string> {
  try {
    return await ensureKilnImage('agent');
  } catch (error) {
    console.warn(`ensureKilnImage('agent') failed; using a stand-in agent image: ${String(error).split('\n')[0]}`);
  }
  const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const root = new URL('../../', import.meta.url).pathname;
  const container = docker('create', 'node:20-bookworm-slim', 'true');
  try {
    execFileSync('sh', ['-c', `tar -C "$0" --transform 's,^,kiln/,' -cf - package.json dist node_modules | docker cp - "$1:/"`, root, container], { stdio: ['ignore', 'ignore', 'pipe'] });
    docker('commit', '--change', 'ENTRYPOINT ["node", "--max-semi-space-size=1", "--heap-growing-percent=20", "/kiln/dist/bundle/kiln.js"]', '--change', 'CMD ["agent"]', '--change', 'WORKDIR /root', container, tag);
  } finally {
    docker('rm', '-f', container);
  }
  return tag;
}
