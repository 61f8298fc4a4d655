// What the trigger path asks of one mirror, answered from memory or through its long-lived
// object reader: the ref table, commits, and files at a commit. No git process per question.
import { KilnError, notFound } from '../../shared/errors.js';
import { parseCommit } from './commit-object.js';
import { createLru } from './lru.js';
import { createObjectReader, type ObjectInfo, type ObjectReader } from './object-reader.js';
import { MAX_FILE_BYTES, normalizeRepoPath, type CommitInfo } from './read.js';
import { readRefTable, type RefTable } from './ref-table.js';
import { assertSha } from './run-git.js';

export interface MirrorView {
  readonly dir: string;
  /** The mirror's branches and tags: read once, then replaced by the mirror after every fetch. */
  refs(): Promise<RefTable>;
  /** Installs the table a fetch just read. */
  setRefs(table: RefTable): void;
  /** True once a table is in memory. */
  hasRefs(): boolean;
  /** The full sha of the commit `sha` (full or abbreviated) names, or null when the mirror has none. */
  findCommit(sha: string): Promise<string | null>;
  /** Subject, author and time of a commit; throws `not_found` when the mirror lacks it. */
  commitInfo(sha: string): Promise<CommitInfo>;
  /**
   * The blob at `path` in commit `sha` (its id and size), or null when there is no such file
   * (or it is a directory or submodule). Throws `not_found` for an unknown commit, `too_large`
   * when the blob is bigger than `maxBytes` (its content is never read).
   */
  fileAt(sha: string, path: string, maxBytes?: number): Promise<ObjectInfo | null>;
  /** A blob's content as UTF-8. */
  blobText(oid: string): Promise<string>;
  /** Ends the reader's git process; later questions that need git reject. Safe to call twice. */
  close(): Promise<void>;
}

const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export interface MirrorViewOptions {
  /** Passed to the object reader. */
  idleMs?: number;
  /** The reader to use instead of a new one on `dir` (e.g. one that records what it is asked). */
  reader?: ObjectReader;
}

export function createMirrorView(dir: string, options: MirrorViewOptions = {}): MirrorView {
  let reader: ObjectReader | null = options.reader ?? null;
  let closed = false;
  const objects = (): ObjectReader => {
    if (closed) throw new KilnError('internal', `the mirror ${dir} is closed`);
    return (reader ??= createObjectReader({ gitDir: dir, idleMs: options.idleMs }));
  };
  let table: RefTable | null = null;
  let generation = 0;
  // Objects never change; only full shas are cached (an abbreviation can become ambiguous).
  const commits = createLru<string, CommitInfo>(512);
  const files = createLru<string, ObjectInfo | null>(512);

  const commitObject = async (sha: string) => {
    assertSha(sha);
    const found = await objects().contents(`${sha}^{commit}`);
    if (!found || found.type !== 'commit') throw notFound(`commit ${sha} not found`);
    return found;
  };

  return {
    dir,
    async refs() {
      if (table) return table;
      // Why the generation: a fetch may install a newer table while this read is under way.
      const started = generation;
      const read = await readRefTable(dir);
      if (generation === started) table = read;
      return table ?? read;
    },
    setRefs(next) {
      generation++;
      table = next;
    },
    hasRefs: () => table !== null,
    async findCommit(sha) {
      assertSha(sha);
      if (commits.get(sha)) return sha;
      const found = await objects().info(`${sha}^{commit}`);
      return found?.type === 'commit' ? found.oid : null;
    },
    async commitInfo(sha) {
      const cached = commits.get(sha);
      if (cached) return cached;
      const found = await commitObject(sha);
      const info = { sha: found.oid, ...parseCommit(found.data) };
      if (FULL_SHA.test(sha)) commits.set(sha, info);
      return info;
    },
    async fileAt(sha, path, maxBytes = MAX_FILE_BYTES) {
      assertSha(sha);
      const spec = `${sha}:${normalizeRepoPath(path)}`;
      let file = files.get(spec);
      if (file === undefined) {
        const [commit, blob] = await Promise.all([objects().info(`${sha}^{commit}`), objects().info(spec)]);
        if (commit?.type !== 'commit') throw notFound(`commit ${sha} not found`);
        file = blob?.type === 'blob' ? blob : null;
        if (FULL_SHA.test(sha)) files.set(spec, file);
      }
      if (file && file.size > maxBytes) {
        throw new KilnError('too_large', `${path} is ${file.size} bytes at ${sha.slice(0, 12)}, more than the ${maxBytes}-byte limit`);
      }
      return file;
    },
    async blobText(oid) {
      const blob = await objects().contents(oid);
      if (!blob || blob.type !== 'blob') throw notFound(`blob ${oid} not found`);
      return blob.data.toString('utf8');
    },
    async close() {
      closed = true;
      const open = reader;
      reader = null;
      await open?.close();
    },
  };
}
