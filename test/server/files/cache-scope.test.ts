// The trust scope of a run's caches, as a table.
import { describe, expect, it } from 'vitest';
import { cacheScope, visibleScopes } from '../../../server/files/cache-scope.js';
import type { PullRequestInfo, Run } from '../../../server/store/index.js';

const pr = (number: number, sourceBranch = 'feature'): PullRequestInfo => ({ number, sourceBranch, targetBranch: 'main', fromFork: false });
type R = Pick<Run, 'id' | 'event' | 'branch' | 'tag' | 'pullRequest'>;
const run = (over: Partial<R>): R => ({ id: 7, event: 'push', branch: 'main', tag: null, pullRequest: null, ...over });

describe('cacheScope', () => {
  const cases: Array<[string, R, string, string[] | null, string]> = [
    ['a push to the default branch', run({}), 'main', null, ''],
    ['a push to another default branch', run({ branch: 'trunk' }), 'trunk', null, ''],
    ['main when it is not the default', run({}), 'trunk', null, 'branch:main'],
    ['release/* by default', run({ branch: 'release/1.2' }), 'main', null, ''],
    ['release/ nested is not release/*', run({ branch: 'release/1.2/x' }), 'main', null, 'branch:release/1.2/x'],
    ['a feature branch', run({ branch: 'feature/x' }), 'main', null, 'branch:feature/x'],
    ['cron on the default branch', run({ event: 'cron' }), 'main', null, ''],
    ['manual on the default branch', run({ event: 'manual' }), 'main', null, ''],
    ['api on a feature branch', run({ event: 'api', branch: 'wip' }), 'main', null, 'branch:wip'],
    ['a pull request from a branch named main', run({ event: 'pull_request', branch: 'main', pullRequest: pr(9, 'main') }), 'main', null, 'pr:9'],
    ['a pull request', run({ event: 'pull_request', branch: 'feature', pullRequest: pr(12) }), 'main', null, 'pr:12'],
    ['a pull-request run without its facts', run({ event: 'pull_request', branch: 'main' }), 'main', null, 'run:7'],
    ['a tag', run({ event: 'tag', branch: null, tag: 'v1.0' }), 'main', null, 'tag:v1.0'],
    ['configured globs replace the default', run({}), 'main', ['stable', 'lts/*'], 'branch:main'],
    ['a configured glob', run({ branch: 'lts/3' }), 'main', ['stable', 'lts/*'], ''],
    ['an empty list protects nothing', run({}), 'main', [], 'branch:main'],
    ['a commit without a branch', run({ event: 'api', branch: null }), 'main', null, 'run:7'],
  ];
  it.each(cases)('%s', (_what, r, defaultBranch, globs, scope) => {
    expect(cacheScope(r, { defaultBranch }, globs)).toBe(scope);
  });

  it('lets a job read its own scope, then the protected one', () => {
    expect(visibleScopes('pr:9')).toEqual(['pr:9', '']);
    expect(visibleScopes('')).toEqual(['']);
  });
});
