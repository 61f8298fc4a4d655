// A mirror's branches and tags as one table, read with one for-each-ref, kept in memory by mirrors.
import { runGit } from './run-git.js';

/** What a ref points at: the object stored in the ref, and the commit it peels to (the same for a branch). */
export interface RefTarget {
  oid: string;
  commit: string;
}

/** Full ref name (`refs/heads/main`, `refs/tags/v1`) → target. */
export type RefTable = ReadonlyMap<string, RefTarget>;

export async function readRefTable(gitDir: string): Promise<Map<string, RefTarget>> {
  const out = await runGit([
    `--git-dir=${gitDir}`, 'for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)', 'refs/heads', 'refs/tags',
  ]);
  const refs = new Map<string, RefTarget>();
  for (const line of out.stdout.toString('utf8').split('\n')) {
    const [name, oid, peeled] = line.split('\0');
    if (name && oid) refs.set(name, { oid, commit: peeled || oid });
  }
  return refs;
}

/** Ref name → the commit it peels to (what diffRefs compares). */
export function commitsOf(table: RefTable): Map<string, string> {
  return new Map([...table].map(([ref, target]) => [ref, target.commit]));
}

/** True when `source` (ref → stored oid) names exactly the refs of `table`, at the same objects. */
export function sameRefs(source: ReadonlyMap<string, string>, table: RefTable): boolean {
  if (source.size !== table.size) return false;
  for (const [ref, oid] of source) if (table.get(ref)?.oid !== oid) return false;
  return true;
}
