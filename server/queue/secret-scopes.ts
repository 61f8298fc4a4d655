// Which of the secrets a job names it may have: a pure check of each secret's scopes against
// the job's run (event, branch) and the job's environment. A refusal names the secret and
// what refused it, never its value.
//
// Branches: a scope matches the run's branch (a pull request's is its source branch). A tag
// run, or a run with no branch, has none, so a branch-scoped secret is refused to it: scope
// the secret by `events: [tag]` (and no branches) to give it to tag runs.
import { matchesGlobs } from '../../shared/glob.js';
import type { RunEvent, SecretScopes } from '../store/index.js';

export interface SecretUse {
  event: RunEvent;
  branch: string | null;
  tag: string | null;
  environment: string | null;
}

/** Null when the scopes let `use` have the secret; else the one-line reason it is refused. */
export function refusalOf(name: string, scopes: SecretScopes, use: SecretUse): string | null {
  const refused = (to: string) => `secret ${name} is not available to ${to}`;
  if (scopes.events !== null && !scopes.events.includes(use.event)) return refused(`event ${use.event}`);
  if (scopes.branches !== null) {
    if (use.branch === null) return refused(use.tag !== null ? `tag ${use.tag}` : 'a run without a branch');
    if (!matchesGlobs(use.branch, scopes.branches)) return refused(`branch ${use.branch}`);
  }
  if (scopes.environments !== null) {
    if (use.environment === null) return refused('a job without an environment');
    if (!matchesGlobs(use.environment, scopes.environments)) return refused(`environment ${use.environment}`);
  }
  return null;
}
