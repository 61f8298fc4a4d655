// `kiln artifacts RUN[/JOB] [--download DIR]`: lists a run's (or a job's) artifacts; with
// --download, fetches each archive, checks its sha256, and unpacks it into DIR/<name>/.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { formatSize } from '../../shared/size.js';
import { parseCommand } from './args.js';
import { ClientError, clientOptions, getJson, request, type ClientOptions } from './client.js';
import { findRun } from './logs.js';

const USAGE = `Usage: kiln artifacts RUN [--download DIR]
       kiln artifacts RUN/JOB-NAME [--download DIR]

RUN is a run id, or REPO#NUMBER (e.g. web#12). Lists each artifact: name, job, size,
sha256 and when it expires. --download DIR fetches each one, checks its sha256, and
unpacks it into DIR/<name>/.`;

interface ArtifactJson { id: number; job: string; job_id: number; name: string; size: number; sha256: string; expires_at: string | null }

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { download: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const options = clientOptions(parsed.values);
  const [target] = parsed.positionals;
  if (!target || parsed.positionals.length > 1) {
    console.error('kiln artifacts: give a RUN or RUN/JOB-NAME (see --help)');
    return 2;
  }
  const slash = target.indexOf('/');
  const run = await findRun(options, slash === -1 ? target : target.slice(0, slash));
  const jobName = slash === -1 ? null : target.slice(slash + 1);
  if (jobName !== null && !(run.jobs ?? []).some((j) => j.name === jobName)) throw new ClientError(`run ${run.id} has no job named "${jobName}"`);
  const { artifacts } = await getJson<{ artifacts: ArtifactJson[] }>(options, `/api/runs/${run.id}/artifacts`);
  const chosen = artifacts.filter((a) => jobName === null || a.job === jobName);
  if (chosen.length === 0) {
    console.log(jobName === null ? `run ${run.id} has no artifacts` : `job "${jobName}" of run ${run.id} has no artifacts`);
    return 0;
  }
  if (parsed.values.download === undefined) {
    const rows = chosen.map((a) => [a.name, a.job, formatSize(a.size), a.sha256.slice(0, 16), a.expires_at ?? 'never']);
    const header = ['NAME', 'JOB', 'SIZE', 'SHA256', 'EXPIRES'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
    return 0;
  }
  for (const artifact of chosen) {
    const into = join(parsed.values.download, artifact.name);
    await download(options, artifact, into);
    console.log(`${artifact.name}: ${formatSize(artifact.size)} → ${into}`);
  }
  return 0;
}

/** Fetches the archive to a temp file while hashing it, and unpacks it only when the digest matches. */
async function download(options: ClientOptions, artifact: ArtifactJson, into: string): Promise<void> {
  const response = await request(options, 'GET', `/api/artifacts/${artifact.id}`);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-artifact-'));
  try {
    const file = join(dir, 'archive.tar.gz');
    const hash = createHash('sha256');
    const hashing = new Transform({ transform(chunk: Buffer, _encoding, done) { hash.update(chunk); done(null, chunk); } });
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), hashing, createWriteStream(file));
    const digest = hash.digest('hex');
    if (digest !== artifact.sha256) throw new ClientError(`artifact "${artifact.name}": the download's sha256 is ${digest}, not ${artifact.sha256}; nothing was unpacked`);
    await mkdir(into, { recursive: true });
    // tar's defaults refuse absolute paths and `..`, and links that would lead out of `into`.
    await tar.x({ file, cwd: into, strict: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
