// `kiln artifacts RUN[/JOB] [--download DIR]`: lists a run's artifacts; --download fetches each,
// checks its sha256, and unpacks it into DIR/<name>/.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { x as untar } from 'tar';
import { formatSize } from '../../shared/size.js';
import { parseCommand } from './args.js';
import { ClientError, clientOptions, getJson, request, type ClientOptions } from './client.js';
import { findRun, jobNamed } from './refs.js';

const USAGE = `Usage: kiln artifacts RUN [--download DIR]
       kiln artifacts RUN/JOB-NAME [--download DIR]

Lists the artifacts of a run (or of one of its jobs): name, job, size, sha256, expiry.
RUN is a run id, or REPO#NUMBER (e.g. web#12).
  --download DIR  fetch each archive, check its sha256, and unpack it into DIR/<name>/
  --server URL    default $KILN_SERVER or http://127.0.0.1:8080
  --token T       default $KILN_TOKEN (needed on a private server)`;

interface ArtifactJson { id: number; job_id: number; job: string; name: string; size: number; sha256: string; expires_at: string | null; url: string }

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { download: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [target] = parsed.positionals;
  if (!target || parsed.positionals.length > 1) {
    console.error('kiln artifacts: give a RUN or RUN/JOB-NAME (see --help)');
    return 2;
  }
  const options = clientOptions(parsed.values);
  const slash = target.indexOf('/');
  const run = await findRun(options, slash === -1 ? target : target.slice(0, slash));
  const jobName = slash === -1 ? null : target.slice(slash + 1);
  if (jobName !== null) jobNamed(run, jobName);
  const artifacts = await getJson<ArtifactJson[]>(options, `/api/runs/${run.id}/artifacts`);
  const shown = artifacts.filter((a) => jobName === null || a.job === jobName);
  if (shown.length === 0) {
    console.log(`run ${run.id}${jobName ? ` job ${jobName}` : ''} has no artifacts`);
    return 0;
  }
  printTable(shown);
  if (parsed.values.download === undefined) return 0;
  const dir = resolve(parsed.values.download);
  for (const artifact of shown) {
    const started = Date.now();
    await download(options, artifact, dir);
    console.log(`${artifact.name}: ${formatSize(artifact.size)} into ${join(dir, artifact.name)} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  }
  return 0;
}

function printTable(artifacts: ArtifactJson[]): void {
  const rows = [['NAME', 'JOB', 'SIZE', 'SHA256', 'EXPIRES'],
    ...artifacts.map((a) => [a.name, a.job, formatSize(a.size), a.sha256.slice(0, 12), a.expires_at ?? 'never'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** Into a temp file first: nothing is unpacked from an archive whose digest is not the listed one. */
async function download(options: ClientOptions, artifact: ArtifactJson, dir: string): Promise<void> {
  if (artifact.name === '.' || artifact.name === '..' || /[/\\]/.test(artifact.name)) throw new ClientError(`refusing the artifact name "${artifact.name}"`);
  const response = await request(options, 'GET', artifact.url);
  if (!response.body) throw new ClientError(`${artifact.name}: the server sent no body`);
  mkdirSync(dir, { recursive: true });
  const temp = mkdtempSync(join(dir, '.kiln-download-'));
  try {
    const file = join(temp, 'archive.tar.gz');
    const hash = createHash('sha256');
    const digest = new Transform({ transform: (chunk: Buffer, _e, done) => done(null, (hash.update(chunk), chunk)) });
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), digest, createWriteStream(file));
    const got = hash.digest('hex');
    if (got !== artifact.sha256) throw new ClientError(`${artifact.name}: the download's sha256 is ${got}, not ${artifact.sha256}; nothing unpacked`);
    const into = join(dir, artifact.name);
    mkdirSync(into, { recursive: true });
    await untar({ file, cwd: into });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
