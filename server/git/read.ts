// Reads commits, files and refs out of a (bare) mirror without touching any work tree.
import { dirname, resolve } from 'node:path';
import { KilnError, notFound } from '../../shared/errors.js';
import { commitsOf, readRefTable } from './ref-table.js';
import { assertSafeArg, assertSha, runGit, type RunGitOptions } from './run-git.js';

export { changedPaths, pullRequestPaths } from './changed-paths.js';

/** Files larger than this are refused by readFileAtCommit unless the caller passes another cap. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface CommitInfo {
  sha: string;
  /** The subject line. */
  message: string;
  /** The whole message. */
  body: string;
  author: string;
  authorEmail: string;
  /** Author time, ISO 8601 UTC. */
  time: string;
}

/** Options that make git look at `repoPath` only, never at a repository above it. */
export function atRepo(repoPath: string): RunGitOptions {
  const abs = resolve(repoPath);
  return { cwd: abs, env: { GIT_CEILING_DIRECTORIES: dirname(abs) } };
}

/** `path` as a clean repository path (`a/b`); throws `bad_input` for `..`, empty parts or option-like names. */
export function normalizeRepoPath(path: string): string {
  const clean = path.replace(/^(\.?\/)+/, '');
  const parts = clean.split('/');
  if (clean === '' || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new KilnError('bad_input', `invalid path in repository: ${JSON.stringify(path).slice(0, 80)}`);
  }
  assertSafeArg('path', clean);
  return clean;
}

/**
 * The committed content of `path` at commit `sha` (UTF-8), or null when the commit has no
 * such file (or it is a directory or submodule). Throws `not_found` when the mirror lacks the
 * commit, `too_large` when the blob is bigger than `maxBytes` (default 1 MiB; the blob is then
 * not read), and `bad_input` for a bad sha or path.
 */
export async function readFileAtCommit(
  mirrorDir: string, sha: string, path: string, maxBytes: number = MAX_FILE_BYTES,
): Promise<string | null> {
  assertSha(sha);
  const spec = `${sha}:${normalizeRepoPath(path)}`;
  const check = await runGit([`--git-dir=${mirrorDir}`, 'cat-file', '--batch-check'], { input: `${sha}^{commit}\n${spec}\n` });
  const [commitLine = '', fileLine = ''] = check.stdout.toString('utf8').split('\n');
  if (!commitLine.includes(' commit ')) throw notFound(`commit ${sha} not found`);
  const [oid, type, size] = fileLine.split(' ');
  if (type !== 'blob' || oid === undefined) return null; // "<spec> missing", a tree, a gitlink
  if (Number(size) > maxBytes) {
    throw new KilnError('too_large', `${path} is ${size} bytes at ${sha.slice(0, 12)}, more than the ${maxBytes}-byte limit`);
  }
  const blob = await runGit([`--git-dir=${mirrorDir}`, 'cat-file', 'blob', oid]);
  return blob.stdout.toString('utf8');
}

/** The commit sha that `ref` (branch, tag, `refs/...` or sha) names; throws `not_found` when none. */
export async function resolveRef(mirrorDir: string, ref: string): Promise<string> {
  assertSafeArg('ref', ref);
  const out = await runGit(
    [`--git-dir=${mirrorDir}`, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
    { okCodes: [0, 1, 128] },
  );
  const sha = out.stdout.toString('utf8').trim();
  if (out.code !== 0 || sha === '') throw notFound(`ref ${ref} not found`);
  return sha;
}

/** Subject, author and author time of commit `sha`; throws `not_found` when the mirror lacks it. */
export async function commitInfo(mirrorDir: string, sha: string): Promise<CommitInfo> {
  assertSha(sha);
  const out = await runGit(
    [`--git-dir=${mirrorDir}`, 'show', '-s', '--no-show-signature', '--format=%H%x00%s%x00%an%x00%ae%x00%at%x00%B', '--end-of-options', `${sha}^{commit}`],
    { okCodes: [0, 128] },
  );
  const [full, message, author, authorEmail, at, body] = out.stdout.toString('utf8').split('\0');
  if (out.code !== 0 || !full || at === undefined) throw notFound(`commit ${sha} not found`);
  return { sha: full, message: message ?? '', body: body ?? '', author: author ?? '', authorEmail: authorEmail ?? '', time: new Date(Number(at) * 1000).toISOString() };
}

/**
 * Every branch and tag: full ref name (`refs/heads/main`, `refs/tags/v1`) → commit sha.
 * Annotated tags are peeled to the object they point at. An empty repository gives an empty map.
 */
export async function listRefs(mirrorDir: string): Promise<Map<string, string>> {
  return commitsOf(await readRefTable(mirrorDir));
}

/** The branch HEAD points at (`main`), for a bare or a normal repository; null when HEAD is detached. */
export async function defaultBranch(repoPath: string): Promise<string | null> {
  const out = await runGit(['symbolic-ref', '--quiet', 'HEAD'], { ...atRepo(repoPath), okCodes: [0, 1] });
  const ref = out.stdout.toString('utf8').trim();
  return out.code === 0 && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
}
