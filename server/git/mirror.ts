// Keeps a bare mirror (branches and tags only) of each repo under the server's data folder.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KilnError } from '../../shared/errors.js';
import { createKeyedLock } from './keyed-lock.js';
import { createMirrorView, type MirrorView } from './mirror-view.js';
import { commitsOf, readRefTable } from './ref-table.js';
import { diffRefs, type RefChange } from './refs-watcher.js';
import { assertSafeArg, GitError, lastLine, runGit, type GitOutput } from './run-git.js';
import { findGitDirs } from './source-refs.js';
import { withRemoteAuth } from './remote-auth.js';
import type { RepoCredentials } from '../store/types.js';

/** Where a repo comes from: a local repository (bare or not) or a remote URL, with its credentials. */
export type MirrorSource = { path: string } | { url: string; credentials?: RepoCredentials | null };

export interface MirrorsOptions {
  /** Kill a fetch (or ls-remote) that takes longer (default 10 minutes). */
  fetchTimeoutMs?: number;
  /** End a mirror's object reader after this long unused (default 30 s). */
  readerIdleMs?: number;
  /** Where SSH remotes' host keys are kept (the server: <data>/known_hosts). */
  knownHostsFile?: string;
  /** How often a fetch also asks a remote which branch its HEAD names (default 60 s; local sources: every fetch). */
  remoteHeadEveryMs?: number;
}

export interface Mirrors {
  /**
   * Creates `mirrorDir` as a bare mirror of `source` (branches, tags, HEAD) when it does not
   * exist yet and resolves true; resolves false when it already exists (it is not fetched).
   * Creation is atomic: a failed first fetch leaves no mirror behind.
   */
  ensureMirror(source: MirrorSource, mirrorDir: string): Promise<boolean>;
  /**
   * Brings `mirrorDir` up to date with `source` (creating it if needed): `refs/heads/*` and
   * `refs/tags/*` forced and pruned, HEAD following the source's HEAD. Resolves with the refs
   * that changed (for a new mirror: every ref, as created).
   */
  fetchMirror(source: MirrorSource, mirrorDir: string): Promise<RefChange[]>;
  /**
   * The in-memory side of `mirrorDir` (made on first use, one per folder): its ref table, which
   * ensureMirror and fetchMirror replace after every change, and its long-lived object reader.
   */
  view(mirrorDir: string): MirrorView;
  /**
   * The source's branches and tags (ref → the object it stores), by `git ls-remote`: one round
   * trip, no objects, so a poll can tell whether a fetch is needed at all.
   */
  lsRemote(source: MirrorSource): Promise<Map<string, string>>;
  /**
   * Fetches the single ref `remoteRef` of `source` (a pull request's head) into `localRef`
   * (forced), creating the mirror if needed, and resolves with the commit it names; null when
   * the remote has no such ref. `localRef` lies outside refs/heads and refs/tags, so the ref
   * table, syncs and their pruning never see it, and it keeps the commit for agents and re-runs.
   * Throws `bad_input` for a ref name git would not take.
   */
  fetchRef(source: MirrorSource, mirrorDir: string, remoteRef: string, localRef: string): Promise<string | null>;
  /** Deletes a ref fetchRef made (never a mirrored branch or tag); nothing when it is not there. */
  dropRef(mirrorDir: string, localRef: string): Promise<void>;
  /** Ends every view's git process. */
  close(): Promise<void>;
}

const REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];
// ext:: and friends could run commands; a repo URL only ever needs these transports.
const FETCH_ENV = { GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh' };

/** The fetch URL of a source: an absolute path for local repos. Throws `bad_input` for `-…`. */
export function sourceUrl(source: MirrorSource): string {
  const url = 'path' in source ? resolve(source.path) : source.url;
  assertSafeArg('repository location', url);
  return url;
}

// What `git check-ref-format` refuses, plus what a refspec would read as syntax (`:`, `+`, `*`).
const BAD_REF = /[\0-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\.|\.lock(\/|$)|\/\/|^\+|\/$|\.$/;

/** Throws `bad_input` unless `ref` is a full ref name (`refs/…`) git takes as is, safe in a refspec. */
export function assertRefName(ref: string): void {
  assertSafeArg('ref', ref);
  if (!ref.startsWith('refs/') || BAD_REF.test(ref) || ref.length > 1024) throw new KilnError('bad_input', `invalid ref name: ${JSON.stringify(ref).slice(0, 80)}`);
}

const credentialsOf = (source: MirrorSource) => ('url' in source ? source.credentials : null);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** One per server process: the lock inside is what serializes work on the same mirror. */
export function createMirrors(options: MirrorsOptions = {}): Mirrors {
  const timeoutMs = options.fetchTimeoutMs ?? 600_000;
  const authOptions = options.knownHostsFile ? { knownHostsFile: options.knownHostsFile } : {};
  // Why a lock: two fetches into one mirror race on ref lock files and on the before/after
  // snapshot that fetchMirror diffs; creation must also happen once.
  const lock = createKeyedLock();
  const views = new Map<string, MirrorView>();
  const view = (dir: string): MirrorView => {
    let found = views.get(dir);
    if (!found) views.set(dir, (found = createMirrorView(dir, { idleMs: options.readerIdleMs })));
    return found;
  };

  // A mirror's HEAD names the source's default branch, and a fetch does not bring it. A local
  // source's HEAD file is read (no git). A remote's takes its own round trip (`ls-remote
  // --symref`), asked beside the fetch at the first one and then at most every
  // `remoteHeadEveryMs`: asked on every fetch, it made a webhook's run wait ~35 ms more on a
  // 2-core host (its processes and the remote's slowed the fetch they ran beside).
  const headEveryMs = options.remoteHeadEveryMs ?? 60_000;
  const headAskedAt = new Map<string, number>();
  const sourceHead = async (source: MirrorSource, run: (args: string[]) => Promise<GitOutput>): Promise<string | null> => {
    if ('path' in source) {
      const dirs = await findGitDirs(source.path);
      const head = dirs ? await readFile(join(dirs.gitDir, 'HEAD'), 'utf8').catch(() => '') : '';
      return /^ref: (refs\/heads\/\S+)$/m.exec(head)?.[1] ?? null;
    }
    const out = await run(['ls-remote', '--symref', '--', sourceUrl(source), 'HEAD']);
    return /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(out.stdout.toString('utf8'))?.[1] ?? null;
  };
  const fetchInto = (source: MirrorSource, gitDir: string, mirrorDir: string): Promise<void> => withRemoteAuth(credentialsOf(source), async (auth) => {
    const opts = { env: { ...FETCH_ENV, ...auth }, timeoutMs };
    const askedAt = Date.now();
    const askHead = 'path' in source || askedAt - (headAskedAt.get(mirrorDir) ?? -Infinity) >= headEveryMs;
    // Maintenance (gc --auto) runs after the fetch, off the caller's path (see fetchMirror).
    const [fetched, head] = await Promise.allSettled([
      runGit(['-c', 'gc.autoDetach=false', `--git-dir=${gitDir}`, 'fetch', '--quiet', '--prune', '--no-tags',
        '--no-write-fetch-head', '--no-auto-maintenance', '--', sourceUrl(source), ...REFSPECS], opts),
      askHead ? sourceHead(source, (args) => runGit(args, opts)) : Promise.resolve(null),
    ]);
    if (fetched.status === 'rejected') throw fetched.reason; // the fetch's error says more
    if (head.status === 'rejected') throw head.reason;
    if (askHead) headAskedAt.set(mirrorDir, askedAt);
    const target = head.value;
    const current = await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '');
    if (target && current.trim() !== `ref: ${target}`) await runGit([`--git-dir=${gitDir}`, 'symbolic-ref', 'HEAD', target]);
  }, authOptions);
  // gc --auto only counts loose objects and packs unless there is work: once a minute is enough.
  const maintainedAt = new Map<string, number>();
  const maintain = (dir: string) => {
    if (Date.now() - (maintainedAt.get(dir) ?? 0) < 60_000) return;
    maintainedAt.set(dir, Date.now());
    void lock.run(dir, () => runGit(['-c', 'gc.autoDetach=false', `--git-dir=${dir}`, 'maintenance', 'run', '--auto', '--quiet']))
      .catch(() => {}); // a mirror removed meanwhile, say; the next fetch tries again
  };

  async function create(source: MirrorSource, mirrorDir: string): Promise<boolean> {
    const url = sourceUrl(source);
    if (await exists(mirrorDir)) return false;
    await mkdir(dirname(mirrorDir), { recursive: true });
    const tmp = `${mirrorDir}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await runGit(['init', '--bare', '--quiet', tmp]);
      await fetchInto(source, tmp, mirrorDir);
      await rename(tmp, mirrorDir);
      return true;
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error instanceof KilnError ? error : new KilnError('internal', `cannot mirror ${url}`, { cause: error });
    }
  }

  return {
    async ensureMirror(source, mirrorDir) {
      sourceUrl(source); // an option-like location is refused before any git runs
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        if (!(await create(source, dir))) return false;
        view(dir).setRefs(await readRefTable(dir));
        return true;
      });
    },
    async fetchMirror(source, mirrorDir) {
      sourceUrl(source); // an option-like location is refused before any git runs
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        const created = await create(source, dir);
        const before = created ? new Map() : await view(dir).refs();
        if (!created) await fetchInto(source, dir, dir);
        const after = await readRefTable(dir);
        view(dir).setRefs(after);
        return diffRefs(commitsOf(before), commitsOf(after));
      }).finally(() => maintain(dir));
    },
    async fetchRef(source, mirrorDir, remoteRef, localRef) {
      assertRefName(remoteRef);
      assertRefName(localRef);
      if (localRef.startsWith('refs/heads/') || localRef.startsWith('refs/tags/')) throw new KilnError('bad_input', `${localRef} is a mirrored branch or tag`);
      const url = sourceUrl(source);
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        if (await create(source, dir)) view(dir).setRefs(await readRefTable(dir));
        const fetched = await withRemoteAuth(credentialsOf(source), (auth) => runGit(['-c', 'gc.autoDetach=false', `--git-dir=${dir}`, 'fetch', '--quiet', '--no-tags',
          '--no-write-fetch-head', '--no-auto-maintenance', '--', url, `+${remoteRef}:${localRef}`], { env: { ...FETCH_ENV, ...auth }, timeoutMs, okCodes: [0, 128] }), authOptions);
        if (fetched.code !== 0) {
          if (/couldn't find remote ref/i.test(fetched.stderr)) return null;
          throw new GitError(`git fetch failed: ${lastLine(fetched.stderr) || 'exit code 128'}`, 128, fetched.stderr);
        }
        const head = await runGit([`--git-dir=${dir}`, 'rev-parse', '--verify', '--end-of-options', `${localRef}^{commit}`]);
        return head.stdout.toString('utf8').trim();
      });
    },
    async dropRef(mirrorDir, localRef) {
      assertRefName(localRef);
      if (localRef.startsWith('refs/heads/') || localRef.startsWith('refs/tags/')) throw new KilnError('bad_input', `${localRef} is a mirrored branch or tag`);
      const dir = resolve(mirrorDir);
      await lock.run(dir, async () => {
        if (await exists(dir)) await runGit([`--git-dir=${dir}`, 'update-ref', '-d', '--', localRef]);
      });
    },
    view: (mirrorDir) => view(resolve(mirrorDir)),
    lsRemote: (source) => withRemoteAuth(credentialsOf(source), async (auth) => {
      const out = await runGit(['ls-remote', '--refs', '--heads', '--tags', '--', sourceUrl(source)], { env: { ...FETCH_ENV, ...auth }, timeoutMs });
      const refs = new Map<string, string>();
      for (const line of out.stdout.toString('utf8').split('\n')) {
        const [oid, ref] = line.split('\t');
        if (oid && ref) refs.set(ref, oid);
      }
      return refs;
    }, authOptions),
    async close() {
      await Promise.all([...views.values()].map((v) => v.close()));
    },
  };
}
