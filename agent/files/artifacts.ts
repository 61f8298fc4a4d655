// A job's artifacts: unpacking those of the jobs it needs, and uploading its own by `when`.
import { rm } from 'node:fs/promises';
import { formatSize } from '../../shared/size.js';
import { collectPaths } from './collect.js';
import { fitReason, message, seconds, type Outcome, type TransferContext } from './context.js';
import { packEntries } from './pack.js';
import { unpackArchive } from './unpack.js';

/**
 * Downloads and unpacks each of `files.artifacts` into the workspace, in order, one log line
 * each; null when all are in, else the reason the job cannot start (any failure is final).
 */
export async function unpackNeededArtifacts(c: TransferContext): Promise<string | null> {
  for (const artifact of c.a.files.artifacts) {
    const started = c.now();
    const temp = c.tempPath();
    try {
      const digest = await c.client.download(`/api/artifacts/${artifact.id}`, temp);
      await unpackArchive(temp, artifact.sha256, c.workspace, digest);
    } catch (err) {
      if (c.signal.aborted) throw err;
      return fitReason(`artifact "${artifact.name}" from ${artifact.job}: ${message(err)}`);
    } finally {
      await rm(temp, { force: true });
    }
    c.system(`kiln: artifact "${artifact.name}" from ${artifact.job}: ${formatSize(artifact.size)} in ${seconds(c.now() - started)}`);
  }
  return null;
}

/** Whether the artifacts go up for a job that ended so (`when`, default on_success); never for a cancelled one. */
export function uploadsFor(when: 'on_success' | 'on_failure' | 'always' | undefined, status: Outcome['status']): boolean {
  if (status === 'cancelled') return false;
  if (when === 'always') return true;
  return when === 'on_failure' ? status === 'failed' : status === 'success';
}

/**
 * Packs and PUTs the job's `artifacts.paths` (the caller checked `when`). Null when uploaded or
 * nothing matched (a warning line, as GitLab does); else the one-line reason the job fails:
 * a refused path, over `artifactMaxBytes`, the server's 4xx `{error}`, or retries given up.
 */
export async function uploadArtifact(c: TransferContext): Promise<string | null> {
  const plan = c.a.job.artifacts!;
  const name = plan.name ?? c.a.job.name;
  const started = c.now();
  const temp = c.tempPath();
  try {
    const collected = await collectPaths(c.workspace, plan.paths);
    if (!collected.ok) return fitReason(`artifact "${name}": ${collected.refusal}`);
    if (collected.entries.length === 0) {
      c.system(`kiln: artifact "${name}": no files matched ${plan.paths.join(', ')}`);
      return null;
    }
    const digest = await packEntries(c.workspace, collected.entries, temp);
    if (digest.size > c.a.files.artifactMaxBytes) return `artifact "${name}" is over server.artifact_max (${formatSize(c.a.files.artifactMaxBytes)})`;
    await c.client.put(`/api/jobs/${c.a.jobId}/artifacts/${encodeURIComponent(name)}`, temp, digest);
    c.system(`kiln: artifact "${name}" uploaded: ${formatSize(digest.size)} in ${seconds(c.now() - started)}`);
    return null;
  } catch (err) {
    if (c.signal.aborted) throw err;
    const said = message(err);
    // The server's answers already name the artifact (`artifact "dist" is over …`).
    return fitReason(said.includes(`"${name}"`) ? said : `artifact "${name}" not uploaded: ${said}`);
  } finally {
    await rm(temp, { force: true });
  }
}
