// Expands the expressions the agent owns in a step's script: `${{ env.X }}` and `${{ hashFiles(…) }}`.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesGlobs } from '../../shared/glob.js';
import { expandRuntimeExpressions, findExpressions } from '../../shared/pipeline/expressions.js';

export interface ExpandContext {
  /** The step's layered env (job env under step env). */
  env: Record<string, string>;
  /** Folder that `hashFiles` globs are relative to. */
  workspace: string;
}

/**
 * Replaces `${{ env.X }}` with the variable (empty when unset) and `${{ hashFiles('glob', …) }}`
 * with `hashFiles`. Other expressions are left as written. Values are inserted as text, not
 * quoted for the shell.
 */
export async function expandExpressions(text: string, ctx: ExpandContext): Promise<string> {
  const hashes = new Map<string, string>();
  for (const found of findExpressions(text)) {
    if (found.parsed.kind !== 'hashFiles') continue;
    const key = JSON.stringify(found.parsed.globs);
    if (!hashes.has(key)) hashes.set(key, await hashFiles(ctx.workspace, found.parsed.globs));
  }
  return expandRuntimeExpressions(text, { env: ctx.env, hashFiles: (globs) => hashes.get(JSON.stringify(globs)) ?? '' });
}

/**
 * sha256 (hex) over the files under `workspace` that match `globs` (`!glob` excludes), in sorted
 * path order: the hash of each file's content, hashed together. Empty string when none match,
 * as GitHub Actions does. `.git` is not searched.
 */
export async function hashFiles(workspace: string, globs: readonly string[]): Promise<string> {
  const files = (await listFiles(workspace, '')).filter((f) => matchesGlobs(f, globs)).sort();
  if (files.length === 0) return '';
  const total = createHash('sha256');
  for (const file of files) {
    total.update(createHash('sha256').update(await readFile(join(workspace, file))).digest());
  }
  return total.digest('hex');
}

async function listFiles(root: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && entry.name !== '.git') files.push(...(await listFiles(root, path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
