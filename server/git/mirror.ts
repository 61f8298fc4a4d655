// Keeps a bare mirror (branches and tags only) of each repo under the server's data folder.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KilnError } from '../../shared/errors.js';
import { createKeyedLock } from './keyed-lock.js';
import { createMirrorView, type MirrorView } from './mirror-view.js';
import { commitsOf, readRefTable } from './ref-table.js';
import { diffRefs, type RefChange } from './refs-watcher.js';
import { assertSafeArg, GitError, lastLine, runGit } from './run-git.js';
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

  const fetchInto = (url: string, gitDir: string, credentials: RepoCredentials | null | undefined): Promise<void> => withRemoteAuth(credentials, async (auth) => {
    const opts = { env: { ...FETCH_ENV, ...auth }, timeoutMs };
    await runGit(['-c', 'gc.autoDetach=false', `--git-dir=${gitDir}`, 'fetch', '--quiet', '--prune', '--no-tags',
      '--no-write-fetch-head', '--', url, ...REFSPECS], opts);
    const head = await runGit(['ls-remote', '--symref', '--', url, 'HEAD'], opts);
    const target = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(head.stdout.toString('utf8'))?.[1];
    if (target) await runGit([`--git-dir=${gitDir}`, 'symbolic-ref', 'HEAD', target]);
  }, authOptions);

  async function create(url: string, mirrorDir: string, credentials: RepoCredentials | null | undefined): Promise<boolean> {
    if (await exists(mirrorDir)) return false;
    await mkdir(dirname(mirrorDir), { recursive: true });
    const tmp = `${mirrorDir}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await runGit(['init', '--bare', '--quiet', tmp]);
      await fetchInto(url, tmp, credentials);
      await rename(tmp, mirrorDir);
      return true;
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error instanceof KilnError ? error : new KilnError('internal', `cannot mirror ${url}`, { cause: error });
    }
  }

  return {
    async ensureMirror(source, mirrorDir) {
      const url = sourceUrl(source);
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        if (!(await create(url, dir, credentialsOf(source)))) return false;
        view(dir).setRefs(await readRefTable(dir));
        return true;
      });
    },
    async fetchMirror(source, mirrorDir) {
      const url = sourceUrl(source);
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        const created = await create(url, dir, credentialsOf(source));
        const before = created ? new Map() : await view(dir).refs();
        if (!created) await fetchInto(url, dir, credentialsOf(source));
        const after = await readRefTable(dir);
        view(dir).setRefs(after);
        return diffRefs(commitsOf(before), commitsOf(after));
      });
    },
    async fetchRef(source, mirrorDir, remoteRef, localRef) {
      assertRefName(remoteRef);
      assertRefName(localRef);
      if (localRef.startsWith('refs/heads/') || localRef.startsWith('refs/tags/')) throw new KilnError('bad_input', `${localRef} is a mirrored branch or tag`);
      const url = sourceUrl(source);
      const dir = resolve(mirrorDir);
      return lock.run(dir, async () => {
        if (await create(url, dir, credentialsOf(source))) view(dir).setRefs(await readRefTable(dir));
        const fetched = await withRemoteAuth(credentialsOf(source), (auth) => runGit(['-c', 'gc.autoDetach=false', `--git-dir=${dir}`, 'fetch', '--quiet', '--no-tags',
          '--no-write-fetch-head', '--', url, `+${remoteRef}:${localRef}`], { env: { ...FETCH_ENV, ...auth }, timeoutMs, okCodes: [0, 128] }), authOptions);
        if (fetched.code !== 0) {
          if (/couldn't find remote ref/i.test(fetched.stderr)) return null;
          throw new GitError(`git fetch failed: ${lastLine(fetched.stderr) || 'exit code 128'}`, 128, fetched.stderr);
        }
        const head = await runGit([`--git-dir=${dir}`, 'rev-parse', '--verify', '--end-of-options', `${localRef}^{commit}`]);
        return head.stdout.toString('utf8').trim();
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
