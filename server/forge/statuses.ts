// Commit statuses as each forge's API documents them: the request kiln sends for a run's state.
//
//   GitHub     POST {api}/repos/{owner}/{repo}/statuses/{sha}            Authorization: Bearer <token>
//              {state: pending|success|failure|error, target_url, description, context}
//   GitLab     POST {api}/projects/{url-encoded path}/statuses/{sha}     PRIVATE-TOKEN: <token>
//              {state: pending|running|success|failed|canceled|skipped, target_url, description, name}
//   Gitea      POST {api}/repos/{owner}/{repo}/statuses/{sha}            Authorization: token <token>
//              {state: pending|success|error|failure|warning, target_url, description, context}
//   Bitbucket  POST {api}/repositories/{workspace}/{slug}/commit/{sha}/statuses/build   Authorization: Bearer <token>
//              {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, url, name, description}
//
// Every final kiln status maps to a final forge state: a cancelled or skipped run never leaves
// a required check `pending` (GitHub and Gitea have no cancelled state: `error` and `success`).
import type { Status } from '../../shared/status.js';
import type { ForgeKind } from '../store/types.js';

export interface StatusRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface CommitStatus {
  sha: string;
  status: Status;
  /** `kiln/<pipeline name>` */
  context: string;
  targetUrl: string;
  description: string;
}

type StateMap = Record<Status, string>;

export const FORGE_STATES: Record<ForgeKind, StateMap> = {
  github: { queued: 'pending', blocked: 'pending', running: 'pending', success: 'success', failed: 'failure', error: 'error', cancelled: 'error', skipped: 'success' },
  gitea: { queued: 'pending', blocked: 'pending', running: 'pending', success: 'success', failed: 'failure', error: 'error', cancelled: 'error', skipped: 'success' },
  gitlab: { queued: 'pending', blocked: 'pending', running: 'running', success: 'success', failed: 'failed', error: 'failed', cancelled: 'canceled', skipped: 'skipped' },
  bitbucket: { queued: 'INPROGRESS', blocked: 'INPROGRESS', running: 'INPROGRESS', success: 'SUCCESSFUL', failed: 'FAILED', error: 'FAILED', cancelled: 'STOPPED', skipped: 'SUCCESSFUL' },
};

/** `owner/repo` (GitLab: `group/sub/project`) from an https, ssh or scp-style repo URL. */
export function repoPath(url: string): string {
  const scp = /^[^@/]+@[^:/]+:(.+)$/.exec(url);
  const path = scp ? scp[1]! : new URL(url).pathname;
  return path.replace(/^\/+/, '').replace(/\.git$/, '').replace(/\/+$/, '');
}

export function statusRequest(forge: { kind: ForgeKind; apiUrl: string; token: string }, repoUrl: string, s: CommitStatus): StatusRequest {
  const api = forge.apiUrl.replace(/\/+$/, '');
  const path = repoPath(repoUrl);
  const state = FORGE_STATES[forge.kind][s.status];
  const description = s.description.slice(0, 140); // GitHub's limit
  const json = { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'kiln' };
  switch (forge.kind) {
    case 'github':
      return {
        method: 'POST', url: `${api}/repos/${path}/statuses/${s.sha}`,
        headers: { ...json, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', Authorization: `Bearer ${forge.token}` },
        body: JSON.stringify({ state, target_url: s.targetUrl, description, context: s.context }),
      };
    case 'gitea':
      return {
        method: 'POST', url: `${api}/repos/${path}/statuses/${s.sha}`,
        headers: { ...json, Authorization: `token ${forge.token}` },
        body: JSON.stringify({ state, target_url: s.targetUrl, description, context: s.context }),
      };
    case 'gitlab':
      return {
        method: 'POST', url: `${api}/projects/${encodeURIComponent(path)}/statuses/${s.sha}`,
        headers: { ...json, 'PRIVATE-TOKEN': forge.token },
        body: JSON.stringify({ state, target_url: s.targetUrl, description, name: s.context }),
      };
    case 'bitbucket':
      return {
        method: 'POST', url: `${api}/repositories/${path}/commit/${s.sha}/statuses/build`,
        headers: { ...json, Authorization: `Bearer ${forge.token}` },
        // key: at most 40 characters, the same for every update of one check.
        body: JSON.stringify({ key: s.context.slice(0, 40), state, url: s.targetUrl, name: s.context, description }),
      };
  }
}
