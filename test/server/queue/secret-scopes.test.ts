// Which secrets a job may have: the scope check as a table of runs and jobs.
import { describe, expect, it } from 'vitest';
import { refusalOf, type SecretUse } from '../../../server/queue/secret-scopes.js';
import { ANY_SCOPE, type SecretScopes } from '../../../server/store/index.js';

const push = (branch: string, environment: string | null = null): SecretUse => ({ event: 'push', branch, tag: null, environment });
const tag: SecretUse = { event: 'tag', branch: null, tag: 'v1.2.0', environment: null };
const scoped = (s: Partial<SecretScopes>): SecretScopes => ({ ...ANY_SCOPE, ...s });

describe('a secret scope', () => {
  it.each<[string, Partial<SecretScopes>, SecretUse, string | null]>([
    ['no scope lets every run have it', {}, tag, null],
    ['a branch glob lets a matching branch have it', { branches: ['main', 'release/*'] }, push('release/2.0'), null],
    ['a branch glob refuses another branch', { branches: ['main'] }, push('feature/x'), 'secret KEY is not available to branch feature/x'],
    ['`*` stays within a segment', { branches: ['release/*'] }, push('release/2/hotfix'), 'secret KEY is not available to branch release/2/hotfix'],
    ['a negative glob excludes', { branches: ['!feature/*'] }, push('feature/x'), 'secret KEY is not available to branch feature/x'],
    ['a tag run has no branch: a branch scope refuses it', { branches: ['**'] }, tag, 'secret KEY is not available to tag v1.2.0'],
    ['an events scope gives it to tag runs', { events: ['tag'] }, tag, null],
    ['an events scope refuses other events', { events: ['push', 'manual'] }, tag, 'secret KEY is not available to event tag'],
    ['a pull request is an event of its own', { events: ['push'] }, { event: 'pull_request', branch: 'main', tag: null, environment: null }, 'secret KEY is not available to event pull_request'],
    ['an environment glob lets a matching job have it', { environments: ['prod*'] }, push('main', 'production'), null],
    ['an environment glob refuses another environment', { environments: ['production'] }, push('main', 'staging'), 'secret KEY is not available to environment staging'],
    ['an environment scope refuses a job without one', { environments: ['production'] }, push('main'), 'secret KEY is not available to a job without an environment'],
    ['a run without a branch (an API run of a sha)', { branches: ['main'] }, { event: 'api', branch: null, tag: null, environment: null }, 'secret KEY is not available to a run without a branch'],
    ['every scope must match', { branches: ['main'], events: ['push'], environments: ['production'] }, push('main', 'production'), null],
  ])('%s', (_, scopes, use, refusal) => {
    expect(refusalOf('KEY', scoped(scopes), use)).toBe(refusal);
  });
});
