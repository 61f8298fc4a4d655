// What `artifacts.paths` / `cache.paths` name in a workspace, checked: the entries to pack, or why not.
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { globToRegExp } from '../../shared/glob.js';

/** One entry to pack: its path relative to the workspace (`/`-separated) and what lstat saw. */
export interface CollectedEntry {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  ino: number;
}

/** The entries (sorted, parents first), or a one-line reason that names the path refused. */
export type Collected = { ok: true; entries: CollectedEntry[] } | { ok: false; refusal: string };

class Refused extends Error {}

const GLOB = /[*?[{]/;

/**
 * Expands `patterns` in `workspace`: `dist/` or `dist` (a folder, taken recursively), a file,
 * `**` / `*` globs (`.git` is not searched by globs), `!glob` to leave matches out. Refuses:
 * `..` or absolute patterns; a symlink whose target leaves the workspace (or is absolute);
 * a file hard-linked to a path outside the workspace (every one of its `nlink` names must be
 * inside); FIFOs, sockets and device files; a path through a symlinked folder. No match: empty.
 */
export async function collectPaths(workspace: string, patterns: readonly string[]): Promise<Collected> {
  try {
    const root = await realpath(workspace);
    const found = new Map<string, CollectedEntry>();
    const links: Array<{ path: string; stat: Stats }> = [];
    const excluded = patterns.filter((p) => p.startsWith('!')).map((p) => globToRegExp(normalize(p.slice(1))));
    const keep = (path: string) => !excluded.some((re) => re.test(path));
    let all: Array<{ path: string; stat: Stats }> | null = null;
    for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
      const norm = checkPattern(pattern);
      if (norm === '') {
        for (const child of await readdir(root)) await add(root, child, found, links, keep);
      } else if (GLOB.test(norm)) {
        const re = globToRegExp(norm);
        all ??= await walk(root, '', (name) => name !== '.git');
        for (const { path } of all) if (re.test(path)) await add(root, path, found, links, keep);
      } else {
        await checkParents(root, norm);
        await add(root, norm, found, links, keep);
      }
    }
    if (links.length > 0) await checkHardLinks(root, links);
    const entries = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { ok: true, entries };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, refusal: err.message };
    throw err;
  }
}

/** `./dist/` → `dist`; `.` → ''. Throws Refused for absolute paths and `..` segments. */
function checkPattern(pattern: string): string {
  if (isAbsolute(pattern) || /^[A-Za-z]:[\\/]/.test(pattern)) throw new Refused(`${pattern} is an absolute path (paths are relative to the workspace)`);
  if (pattern.split(/[\\/]/).includes('..')) throw new Refused(`${pattern} leaves the workspace (..)`);
  return normalize(pattern);
}

function normalize(pattern: string): string {
  const parts = pattern.split('/').filter((part) => part !== '' && part !== '.');
  return parts.join('/');
}

/** A literal path must not go through a symlinked folder: lstat would follow it, and tar too. */
async function checkParents(root: string, path: string): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    const stat = await lstat(join(root, parent)).catch(() => null);
    if (stat === null) return;
    if (stat.isSymbolicLink()) throw new Refused(`${path} goes through the symlink ${parent} (name the folder it points to)`);
  }
}

async function add(
  root: string, path: string, found: Map<string, CollectedEntry>,
  links: Array<{ path: string; stat: Stats }>, keep: (path: string) => boolean,
): Promise<void> {
  if (found.has(path) || !keep(path)) return;
  const abs = join(root, path);
  const stat = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (stat === null) return;
  if (stat.isSymbolicLink()) {
    await checkSymlink(root, path, abs);
    found.set(path, { path, kind: 'symlink', ino: stat.ino });
  } else if (stat.isDirectory()) {
    found.set(path, { path, kind: 'dir', ino: stat.ino });
    for (const child of (await readdir(abs)).sort()) await add(root, `${path}/${child}`, found, links, keep);
  } else if (stat.isFile()) {
    if (stat.nlink > 1) links.push({ path, stat });
    found.set(path, { path, kind: 'file', ino: stat.ino });
  } else {
    throw new Refused(`${path} is ${special(stat)} (only files, folders and symlinks are kept)`);
  }
}

/** The kind of a special file, for a refusal. */
export function special(stat: Pick<Stats, 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

async function checkSymlink(root: string, path: string, abs: string): Promise<void> {
  const target = await readlink(abs);
  if (isAbsolute(target)) {
    if (!inside(root, target)) throw new Refused(`${path} is a symlink to ${target} (outside the workspace)`);
    // tar would store it relative to the archive's root, so it would point elsewhere once unpacked.
    throw new Refused(`${path} is a symlink to the absolute path ${target} (make it relative)`);
  }
  const lexical = resolve(dirname(abs), target);
  const real = await realpath(lexical).catch(() => lexical);
  if (!inside(root, lexical) || !inside(root, real)) throw new Refused(`${path} is a symlink to ${target} (outside the workspace)`);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Why every name must be inside: a hard link is the same file under two names, and the other
 * name, outside the workspace, is not the job's to publish. Walks the whole workspace (`.git`
 * too) only when a file to pack has more than one name.
 */
async function checkHardLinks(root: string, links: Array<{ path: string; stat: Stats }>): Promise<void> {
  const names = new Map<string, number>();
  for (const { stat } of links) names.set(`${stat.dev}:${stat.ino}`, 0);
  for (const { stat } of await walk(root, '', () => true)) {
    const id = `${stat.dev}:${stat.ino}`;
    const seen = names.get(id);
    if (seen !== undefined && stat.isFile()) names.set(id, seen + 1);
  }
  for (const { path, stat } of links) {
    if ((names.get(`${stat.dev}:${stat.ino}`) ?? 0) < stat.nlink) {
      throw new Refused(`${path} is a hard link to a file outside the workspace`);
    }
  }
}

/** Every path under `root/prefix` (lstat, symlinks not followed), folders before their contents. */
async function walk(root: string, prefix: string, enter: (name: string) => boolean): Promise<Array<{ path: string; stat: Stats }>> {
  const out: Array<{ path: string; stat: Stats }> = [];
  const visit = async (rel: string) => {
    for (const name of await readdir(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = await lstat(join(root, path)).catch(() => null);
      if (stat === null) continue;
      out.push({ path, stat });
      if (stat.isDirectory() && enter(name)) await visit(path);
    }
  };
  await visit(prefix);
  return out;
}
