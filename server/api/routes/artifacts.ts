// Artifacts over HTTP (notes/files-contract.md): a job's agent uploads with its transfer token
// (`PUT /api/jobs/:id/artifacts/:name`, streamed to the artifacts BlobStore), anyone who may read
// lists and downloads them, and a job of the same run downloads with its transfer token.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { KilnError } from '../../../shared/errors.js';
import { formatSize } from '../../../shared/size.js';
import { SHA256_HEX } from '../../files/blob-store.js';
import { blobResponse } from '../../files/blob-download.js';
import { closingOnRefusal, requireTransferToken, transferJob, type JobFilesOptions } from '../../files/job-files.js';
import { unexpired, type Artifact } from '../../store/index.js';
import { idParam, param, type ApiOptions } from '../http.js';
import { repoFinders } from '../../access/index.js';

/** An artifact as the API shows it. */
export function artifactView(a: Artifact) {
  return {
    id: a.id, job_id: a.jobId, run_id: a.runId, job: a.job, name: a.name, size: a.size, sha256: a.sha256,
    created_at: a.createdAt, expires_at: a.expiresAt, url: `/api/artifacts/${a.id}`,
  };
}

/** 1–200 characters, no path separators, NUL or control characters, not `.` or `..`. */
export function artifactNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 200) return 'an artifact name is 1 to 200 characters';
  if (/[/\\\x00-\x1f\x7f]/.test(name)) return 'an artifact name has no /, \\ or control characters';
  if (name === '.' || name === '..') return `an artifact may not be named ${name}`;
  return null;
}

export function createArtifactRoutes(options: ApiOptions & { files: JobFilesOptions }): Hono {
  const { store, files, logger, access: { guard } } = options;
  const app = new Hono();
  const of = repoFinders(store);

  app.put('/api/jobs/:id/artifacts/:name', guard('job'), closingOnRefusal((c) => receive(c)));

  const receive = async (c: Context) => {
    const jobId = idParam(c);
    requireTransferToken(c, store, files.transfer, jobId);
    const name = param(c, 'name');
    const problem = artifactNameProblem(name);
    if (problem) throw new KilnError('bad_input', problem);
    const sha256 = c.req.header('x-kiln-sha256') ?? '';
    if (!SHA256_HEX.test(sha256)) throw new KilnError('bad_input', 'X-Kiln-Sha256 must be the archive\'s sha256 (64 lower-case hex digits)');
    const what = `artifact "${name}"`;
    const tooLarge = new KilnError('too_large', `${what} is over server.artifact_max (${formatSize(files.artifactMaxBytes)})`);
    const length = c.req.header('content-length');
    if (length !== undefined && Number(length) > files.artifactMaxBytes) throw tooLarge;
    const raw = c.req.raw.body;
    const body = raw ? Readable.fromWeb(raw as import('node:stream/web').ReadableStream) : Readable.from([]);
    // Held from before the file's rename until its row is recorded: a sweep between the two
    // would otherwise find the file referred to by no row and remove it.
    const release = files.artifacts.hold(sha256);
    try {
      const stored = await files.artifacts.put(body, { sha256, maxBytes: files.artifactMaxBytes, what, limitName: 'server.artifact_max' })
        .catch((error: unknown) => {
          if (error instanceof KilnError) throw error;
          throw new KilnError('bad_input', `${what}: the upload was cut off (${error instanceof Error ? error.message : String(error)})`, { cause: error });
        });
      // The lease may have ended while the body came in: such an upload is not recorded (its
      // file, referred to by no row, goes at the next sweep).
      requireTransferToken(c, store, files.transfer, jobId);
      const job = store.jobs.getJob(jobId)!;
      const expireMs = job.plan.artifacts?.expireMs ?? files.artifactExpireMs;
      const artifact = store.transaction(() => store.artifacts.recordArtifact({
        jobId, runId: job.runId, attempt: job.attempt, name, size: stored.size, sha256: stored.sha256, expireMs,
      }));
      logger.info({ runId: job.runId, jobId, artifact: name, size: formatSize(stored.size) }, 'artifact stored');
      return c.json({ artifact: artifactView(artifact) }, 201);
    } finally {
      release();
    }
  };

  app.get('/api/jobs/:id/artifacts', guard('read', of.job), (c) => {
    const jobId = idParam(c);
    if (!store.jobs.getJob(jobId)) throw new KilnError('not_found', `no job ${jobId}`);
    return c.json(unexpired(store.artifacts.listJobArtifacts(jobId), Date.now()).map(artifactView));
  });

  app.get('/api/runs/:id/artifacts', guard('read', of.run), (c) => {
    const runId = idParam(c);
    if (!store.runs.getRunSummary(runId)) throw new KilnError('not_found', `no run ${runId}`);
    return c.json(unexpired(store.artifacts.listRunArtifacts(runId), Date.now()).map(artifactView));
  });

  // Readers, or a job of the artifact's run with its transfer token (mayDownload).
  app.get('/api/artifacts/:id', guard('job'), async (c) => {
    const id = idParam(c);
    const artifact = store.artifacts.getArtifact(id);
    if (!artifact) throw new KilnError('not_found', `no artifact ${id}`);
    if (unexpired([artifact], Date.now()).length === 0) throw new KilnError('not_found', `artifact ${id} expired at ${artifact.expiresAt}`);
    mayDownload(c, options, artifact);
    return blobResponse(files.artifacts, c.req.method, c.req.header('range'), { sha256: artifact.sha256, filename: `${artifact.name}.tar.gz`, what: `artifact ${id}` });
  });
  return app;
}

/** Open to who may read the run's repo, and to a transfer token of a job of the artifact's run. */
function mayDownload(c: Context, { store, files, access }: ApiOptions & { files: JobFilesOptions }, artifact: Artifact): void {
  const repo = store.runs.getRunSummary(artifact.runId)?.repo ?? null;
  const p = access.principalOf(c);
  if (access.may(c, 'read', repo)) return;
  // A transfer token is no user's or agent's token: it authenticates as an unknown one.
  const holder = p.kind === 'unknown-token' ? transferJob(c, store, files.transfer) : null;
  if (holder === null) {
    if (p.kind === 'anonymous') throw new KilnError('unauthorized', 'this server is private: send a token');
    if (p.kind === 'unknown-token') throw new KilnError('unauthorized', 'unknown, expired or revoked token');
    throw new KilnError('forbidden', `this token may not read ${repo ?? 'this repo'}`);
  }
  if (store.jobs.getJob(holder)?.runId !== artifact.runId) {
    throw new KilnError('forbidden', `the token of job ${holder} opens the artifacts of its own run only`);
  }
}
