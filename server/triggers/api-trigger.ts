// Runs started by hand (the API, the dashboard, `kiln trigger`): which commit a request names,
// answered from the mirror's ref table and object reader, so a trigger of a current mirror
// runs no git process.
import { badInput, conflict, KilnError, notFound } from '../../shared/errors.js';
import type { InputValue, PlannedInput } from '../../shared/pipeline/types.js';
import type { RefTable } from '../git/ref-table.js';
import { assertSafeArg, assertSha } from '../git/run-git.js';
import type { RunDetail, Store } from '../store/index.js';
import type { RepoTriggers } from './repos.js';
import type { RunStarter } from './run-starter.js';

export interface TriggerRequest {
  /** A branch or tag (`main`, `v1`) or a full ref (`refs/heads/main`); default: the repo's default branch. */
  ref?: string;
  /** A commit (full or abbreviated); default: the head of `ref`. */
  sha?: string;
  env?: Record<string, string>;
  /** Values for the pipeline's `on.manual.inputs`, as text or JSON-typed. */
  inputs?: Record<string, InputValue>;
  event: 'api' | 'manual';
  /** Who asked (server/access/principal.ts nameOf). */
  triggeredBy?: string;
}

export interface ApiTriggerOptions {
  store: Store;
  starter: RunStarter;
  triggers: Pick<RepoTriggers, 'ensureCurrent' | 'mirror'>;
}

export interface ApiTrigger {
  /**
   * Starts a run of `repoName` and resolves with it. Throws `not_found` for an unknown repo,
   * ref or commit, `bad_input` for a malformed ref or sha (or a sha given as `ref`), and
   * `conflict` when the pipeline refuses the run (no pipeline.yml, `on.manual: false`), and
   * `bad_input` for inputs that do not fit its `on.manual.inputs`.
   */
  trigger(repoName: string, request: TriggerRequest): Promise<RunDetail>;
  /** The inputs a run of the head of the repo's default branch asks for (none when it has no valid pipeline there). */
  inputsOf(repoName: string): Promise<PlannedInput[]>;
}

export function createApiTrigger({ store, starter, triggers }: ApiTriggerOptions): ApiTrigger {
  return {
    async trigger(repoName, request) {
      const repo = store.repos.getRepoByName(repoName);
      if (!repo) throw notFound(`no repo named ${repoName}`);
      if (request.ref) assertSafeArg('ref', request.ref);
      if (request.sha !== undefined) assertSha(request.sha);
      await triggers.ensureCurrent(repo, request.sha ? { sha: request.sha } : {}); // pick up the newest commits first
      const mirror = triggers.mirror(repo);
      const refs = await mirror.refs().catch((): RefTable => new Map()); // no mirror yet: nothing to name
      const ref = request.ref ? (request.ref.startsWith('refs/') ? request.ref : qualify(refs, request.ref)) : `refs/heads/${repo.defaultBranch}`;
      let sha: string | undefined;
      if (request.sha) sha = (await mirror.findCommit(request.sha).catch(() => null)) ?? undefined;
      else sha = refs.get(ref)?.commit;
      if (!sha) throw notFound(`ref ${request.sha ?? ref} not found`);
      const run = await starter.startRun(repo, { event: request.event, ref, sha, changedPaths: null, env: request.env ?? {}, inputs: request.inputs ?? {}, triggeredBy: request.triggeredBy ?? null });
      if (!run) throw conflict('the pipeline does not allow this run');
      return store.runs.getRun(run.id)!;
    },
    async inputsOf(repoName) {
      const repo = store.repos.getRepoByName(repoName);
      if (!repo) throw notFound(`no repo named ${repoName}`);
      const refs = await triggers.mirror(repo).refs().catch((): RefTable => new Map());
      const sha = refs.get(`refs/heads/${repo.defaultBranch}`)?.commit;
      const outcome = sha ? await starter.pipelineAt(repo, sha).catch(() => null) : null;
      return outcome?.ok ? outcome.plan.inputs ?? [] : [];
    },
  };
}

/** `main` → `refs/heads/main`, or `refs/tags/main` when only a tag has that name. */
function qualify(refs: RefTable, ref: string): string {
  for (const full of [`refs/heads/${ref}`, `refs/tags/${ref}`]) if (refs.has(full)) return full;
  if (/^[0-9a-f]{7,40}$/.test(ref)) throw badInput(`give a commit as "sha", not "ref": ${ref}`);
  throw new KilnError('not_found', `no branch or tag named ${ref}`);
}
