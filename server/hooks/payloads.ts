// What a verified delivery says happened, in kiln's terms: a branch moved, a tag was pushed, a
// ref was deleted, or a pull request was opened, updated, reopened or closed. Only the fields
// kiln acts on are read (forges send far more); a body that lacks them for the event its
// headers claim is refused. These are hints: the server confirms every sha against the remote,
// and reads commits and changed paths from git, never from the payload.
import * as z from 'zod';
import type { ForgeKind } from './verify.js';

export type PullRequestAction = 'opened' | 'synchronize' | 'reopened' | 'closed';

// Each forge's names for the pull-request actions kiln acts on. Looked up as own keys only: a
// payload's `action` of "constructor" must not find Object.prototype's.
const GITHUB_ACTIONS = new Map<string, PullRequestAction>([['opened', 'opened'], ['synchronize', 'synchronize'], ['reopened', 'reopened'], ['closed', 'closed']]);
const GITEA_ACTIONS = new Map<string, PullRequestAction>([['opened', 'opened'], ['synchronized', 'synchronize'], ['reopened', 'reopened'], ['closed', 'closed']]);
const BITBUCKET_ACTIONS = new Map<string, PullRequestAction>([
  ['pullrequest:created', 'opened'], ['pullrequest:updated', 'synchronize'], ['pullrequest:fulfilled', 'closed'], ['pullrequest:rejected', 'closed'],
]);

export type HookEvent =
  | { kind: 'push'; ref: string; before: string | null; after: string }
  | { kind: 'tag'; ref: string; after: string }
  | { kind: 'delete'; ref: string }
  | {
    kind: 'pull_request'; action: PullRequestAction; number: number;
    sourceBranch: string; targetBranch: string;
    /** The head commit; Bitbucket sends it abbreviated (12 digits). */
    headSha: string;
    /** From another repository than the target's: such runs get no secrets. */
    fromFork: boolean;
    /**
     * Where the head can be fetched: a ref of the repo's own remote (GitHub and Gitea
     * `refs/pull/N/head`, GitLab `refs/merge-requests/N/head`, Bitbucket the source branch)…
     */
    headRef: string;
    /** …of another repository on the same forge (a Bitbucket fork, which has no pull-request refs): both full names. */
    headRepo: { target: string; source: string } | null;
  };

export type ParsedDelivery =
  | { ok: true; events: HookEvent[]; ignored: string | null }
  | { ok: false; error: string };

const sha = z.string().regex(/^[0-9a-f]{7,64}$/, { error: 'not a commit id' });
const ref = z.string().min(1).max(1024);
const ZERO = /^0+$/;

const githubPush = z.object({ ref, before: sha, after: sha, deleted: z.boolean().optional() });
const githubPull = z.object({
  action: z.string(),
  number: z.int().positive(),
  pull_request: z.object({
    head: z.object({ ref, sha, repo: z.object({ full_name: z.string() }).nullable() }),
    base: z.object({ ref, repo: z.object({ full_name: z.string() }) }),
  }),
});
const gitlabPush = z.object({ object_kind: z.enum(['push', 'tag_push']), ref, before: sha, after: sha });
const gitlabMerge = z.object({
  object_kind: z.literal('merge_request'),
  object_attributes: z.object({
    iid: z.int().positive(),
    action: z.string().optional(),
    source_branch: ref,
    target_branch: ref,
    source_project_id: z.int(),
    target_project_id: z.int(),
    last_commit: z.object({ id: sha }),
    oldrev: sha.optional(),
  }),
});
const giteaPush = z.object({ ref, before: sha, after: sha });
const giteaDelete = z.object({ ref, ref_type: z.enum(['branch', 'tag']) });
const giteaPull = z.object({
  action: z.string(),
  number: z.int().positive(),
  pull_request: z.object({
    head: z.object({ ref, sha, repo_id: z.int() }),
    base: z.object({ ref, repo_id: z.int() }),
  }),
});
const bitbucketRefState = z.object({ type: z.string(), name: ref, target: z.object({ hash: sha }) });
const bitbucketPush = z.object({ push: z.object({ changes: z.array(z.object({ new: bitbucketRefState.nullable(), old: bitbucketRefState.nullable() })).max(1000) }) });
const bitbucketPull = z.object({
  pullrequest: z.object({
    id: z.int().positive(),
    source: z.object({ branch: z.object({ name: ref }), commit: z.object({ hash: sha }), repository: z.object({ full_name: z.string() }) }),
    destination: z.object({ branch: z.object({ name: ref }), repository: z.object({ full_name: z.string() }) }),
  }),
});
const kilnPush = z.strictObject({ ref, before: sha.nullable().optional(), after: sha });
const kilnPull = z.strictObject({
  action: z.enum(['opened', 'synchronize', 'reopened', 'closed']),
  number: z.int().positive(),
  source_branch: ref,
  target_branch: ref,
  head_sha: sha,
  fork: z.boolean().optional(),
  head_ref: z.string().regex(/^refs\/[A-Za-z0-9._\/-]+$/, { error: 'expected a full ref such as refs/pull/3/head' }).max(1024).optional(),
});

/** A push of `ref` from `before` to `after`, by what the ref is and whether it was deleted. */
function refUpdate(fullRef: string, before: string | null, after: string): HookEvent | string {
  if (ZERO.test(after)) return { kind: 'delete', ref: fullRef };
  if (fullRef.startsWith('refs/tags/')) return { kind: 'tag', ref: fullRef, after };
  if (fullRef.startsWith('refs/heads/')) return { kind: 'push', ref: fullRef, before: before && !ZERO.test(before) ? before : null, after };
  return `a push to ${fullRef}, which is neither a branch nor a tag`;
}

const events = (...found: Array<HookEvent | string>): ParsedDelivery => {
  const kept = found.filter((e): e is HookEvent => typeof e !== 'string');
  const skipped = found.filter((e): e is string => typeof e === 'string');
  return { ok: true, events: kept, ignored: kept.length === 0 ? skipped.join('; ') || 'nothing to do' : null };
};
const ignored = (why: string): ParsedDelivery => ({ ok: true, events: [], ignored: why });

/** Reads `body` (already parsed JSON) as the `event` its `forge`'s headers named. */
export function parseDelivery(forge: ForgeKind, event: string, body: unknown): ParsedDelivery {
  const read = <T>(schema: z.ZodType<T>): T | { error: string } => {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    return { error: `not a ${event} event: ${issue.path.join('.') || 'body'}: ${issue.message}` };
  };
  const failed = (value: object): value is { error: string } => 'error' in value && typeof (value as { error: unknown }).error === 'string';

  switch (forge) {
    case 'github': {
      if (event === 'ping') return ignored('ping');
      if (event === 'push') {
        const p = read(githubPush);
        if (failed(p)) return { ok: false, error: p.error };
        return events(p.deleted ? { kind: 'delete', ref: p.ref } : refUpdate(p.ref, p.before, p.after));
      }
      if (event === 'pull_request') {
        const p = read(githubPull);
        if (failed(p)) return { ok: false, error: p.error };
        const action = GITHUB_ACTIONS.get(p.action);
        if (!action) return ignored(`pull_request ${p.action}`);
        const pr = p.pull_request;
        return events({
          kind: 'pull_request', action, number: p.number, sourceBranch: pr.head.ref, targetBranch: pr.base.ref, headSha: pr.head.sha,
          fromFork: pr.head.repo === null || pr.head.repo.full_name !== pr.base.repo.full_name,
          headRef: `refs/pull/${p.number}/head`, headRepo: null,
        });
      }
      return ignored(`${event} events`);
    }
    case 'gitlab': {
      if (event === 'Push Hook' || event === 'Tag Push Hook') {
        const p = read(gitlabPush);
        if (failed(p)) return { ok: false, error: p.error };
        return events(refUpdate(p.ref, p.before, p.after));
      }
      if (event === 'Merge Request Hook') {
        const p = read(gitlabMerge);
        if (failed(p)) return { ok: false, error: p.error };
        const a = p.object_attributes;
        // `update` is any change to the merge request; with `oldrev` it brought new commits.
        const action = a.action === 'open' ? 'opened' : a.action === 'reopen' ? 'reopened' : a.action === 'close' || a.action === 'merge' ? 'closed'
          : a.action === 'update' && a.oldrev ? 'synchronize' : null;
        if (!action) return ignored(`merge request ${a.action ?? 'change'} without new commits`);
        return events({
          kind: 'pull_request', action, number: a.iid, sourceBranch: a.source_branch, targetBranch: a.target_branch, headSha: a.last_commit.id,
          fromFork: a.source_project_id !== a.target_project_id,
          headRef: `refs/merge-requests/${a.iid}/head`, headRepo: null,
        });
      }
      return ignored(`${event} events`);
    }
    case 'gitea': {
      if (event === 'push') {
        const p = read(giteaPush);
        if (failed(p)) return { ok: false, error: p.error };
        return events(refUpdate(p.ref, p.before, p.after));
      }
      if (event === 'delete') {
        const p = read(giteaDelete);
        if (failed(p)) return { ok: false, error: p.error };
        return events({ kind: 'delete', ref: `refs/${p.ref_type === 'branch' ? 'heads' : 'tags'}/${p.ref}` });
      }
      if (event === 'pull_request') {
        const p = read(giteaPull);
        if (failed(p)) return { ok: false, error: p.error };
        const action = GITEA_ACTIONS.get(p.action);
        if (!action) return ignored(`pull_request ${p.action}`);
        const pr = p.pull_request;
        return events({
          kind: 'pull_request', action, number: p.number, sourceBranch: pr.head.ref, targetBranch: pr.base.ref, headSha: pr.head.sha,
          fromFork: pr.head.repo_id !== pr.base.repo_id,
          headRef: `refs/pull/${p.number}/head`, headRepo: null,
        });
      }
      return ignored(`${event} events`); // create: the push that comes with it is enough
    }
    case 'bitbucket': {
      if (event === 'repo:push') {
        const p = read(bitbucketPush);
        if (failed(p)) return { ok: false, error: p.error };
        const name = (state: z.infer<typeof bitbucketRefState>) => `refs/${state.type === 'branch' ? 'heads' : 'tags'}/${state.name}`;
        return events(...p.push.changes.map((change): HookEvent | string => {
          if (change.new === null) return change.old ? { kind: 'delete', ref: name(change.old) } : 'a change with neither old nor new ref';
          if (!['branch', 'tag', 'annotated_tag'].includes(change.new.type)) return `a push to a ${change.new.type}`;
          return refUpdate(name(change.new), change.old?.target.hash ?? null, change.new.target.hash);
        }));
      }
      const action = BITBUCKET_ACTIONS.get(event);
      if (action) {
        const p = read(bitbucketPull);
        if (failed(p)) return { ok: false, error: p.error };
        const pr = p.pullrequest;
        const [source, target] = [pr.source.repository.full_name, pr.destination.repository.full_name];
        return events({
          kind: 'pull_request', action, number: pr.id, sourceBranch: pr.source.branch.name, targetBranch: pr.destination.branch.name, headSha: pr.source.commit.hash,
          fromFork: source !== target, headRef: `refs/heads/${pr.source.branch.name}`, headRepo: source !== target ? { target, source } : null,
        });
      }
      return ignored(`${event} events`);
    }
    case 'kiln': {
      if (event === 'push') {
        const p = read(kilnPush);
        if (failed(p)) return { ok: false, error: p.error };
        return events(refUpdate(p.ref, p.before ?? null, p.after));
      }
      if (event === 'pull_request') {
        const p = read(kilnPull);
        if (failed(p)) return { ok: false, error: p.error };
        if (p.fork && !p.head_ref) return { ok: false, error: 'a pull request from a fork needs head_ref: the ref of this repo\'s remote that holds its head (e.g. refs/pull/3/head)' };
        return events({
          kind: 'pull_request', action: p.action, number: p.number, sourceBranch: p.source_branch, targetBranch: p.target_branch, headSha: p.head_sha,
          fromFork: p.fork ?? false, headRef: p.head_ref ?? `refs/heads/${p.source_branch}`, headRepo: null,
        });
      }
      return { ok: false, error: `unknown kiln event "${event}" (push or pull_request)` };
    }
  }
}
