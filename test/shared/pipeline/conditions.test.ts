import { describe, expect, it } from 'vitest';
import { skipCiMarker, skipsEvent, triggerMatches, whenMatches, type RunFacts } from '../../../shared/pipeline/index.js';
import { planOf } from './helpers.js';

const push = (branch: string, changedPaths: string[] | null = null): RunFacts => ({ event: 'push', branch, tag: null, changedPaths });
const tag = (name: string): RunFacts => ({ event: 'tag', branch: null, tag: name, changedPaths: null });
const pr = (source: string, target: string, changedPaths: string[] | null = null): RunFacts => ({ event: 'pull_request', branch: source, tag: null, targetBranch: target, changedPaths });

describe('on: which events start a run', () => {
  const filtered = planOf('on:\n  push: { branches: [main, "release/*"], paths: ["src/**"] }\n  tags: ["v*"]\n  manual: false\njobs:\n  a:\n    steps: [{run: x}]\n').triggers;
  const open = planOf('jobs:\n  a:\n    steps: [{run: x}]\n').triggers;

  it.each([
    ['a push to main changing src', filtered, push('main', ['src/a.ts']), true],
    ['a push to main changing only docs', filtered, push('main', ['docs/a.md']), false],
    ['a push to a release branch', filtered, push('release/2.0', ['src/x']), true],
    ['a push to a feature branch', filtered, push('feature/x', ['src/x']), false],
    ['a matching tag', filtered, tag('v1.0.0'), true],
    ['another tag', filtered, tag('nightly'), false],
    ['a manual run when manual is false', filtered, { event: 'manual', branch: 'main', tag: null, changedPaths: null }, false],
    ['a push anywhere with no on:', open, push('anything'), true],
    ['a tag with no on:', open, tag('v1'), false],
    ['an api run with no on:', open, { event: 'api', branch: 'main', tag: null, changedPaths: null }, true],
    ['a pull request with no on: (as GitHub: it needs on.pull_request)', open, pr('feature', 'main'), false],
    ['a pull request when on: names only push', filtered, pr('feature', 'main'), false],
  ] as const)('%s → %s', (_name, triggers, facts, expected) => {
    expect(triggerMatches(triggers, facts as RunFacts)).toBe(expected);
  });
});

describe('on.pull_request: which pull requests start a run', () => {
  const triggersOf = (on: string) => planOf(`on:\n  ${on}\njobs:\n  a:\n    steps: [{run: x}]\n`).triggers;
  it.each([
    ['any target with {}', 'pull_request: {}', pr('feature', 'develop'), true],
    ['a target matching branches', 'pull_request: { branches: [main, "release/*"] }', pr('feature', 'release/2'), true],
    ['another target', 'pull_request: { branches: [main, "release/*"] }', pr('main', 'develop'), false],
    ['the source branch is not what branches match', 'pull_request: { branches: [main] }', pr('main', 'develop'), false],
    ['an excluded target', 'pull_request: { branches: ["**", "!legacy"] }', pr('feature', 'legacy'), false],
    ['pull_request: false', 'pull_request: false', pr('feature', 'main'), false],
    ['a change to a path it names', 'pull_request: { paths: ["src/**"] }', pr('feature', 'main', ['src/a.ts', 'README.md']), true],
    ['a change to other paths only', 'pull_request: { paths: ["src/**"] }', pr('feature', 'main', ['docs/a.md']), false],
    ['paths when the changes are unknown', 'pull_request: { paths: ["src/**"] }', pr('feature', 'main', null), true],
    ['a push when only pull_request is named', 'pull_request: {}', push('main'), false],
  ] as const)('%s → %s', (_name, on, facts, expected) => {
    expect(triggerMatches(triggersOf(on), facts)).toBe(expected);
  });

  it('refuses pull requests in plans stored before on.pull_request existed', () => {
    const { pullRequest: _gone, ...old } = triggersOf('pull_request: {}');
    expect(triggerMatches(old, pr('feature', 'main'))).toBe(false);
  });
});

describe('[skip ci] in a commit message', () => {
  it.each([
    ['Fix typo [skip ci]', '[skip ci]'],
    ['[CI SKIP] docs only', '[CI SKIP]'],
    ['subject\n\nbody line [No Ci] at the end', '[No Ci]'],
    ['skip ci without brackets', null],
    ['[skip-ci]', null],
    ['[skip  ci]', null],
  ] as const)('%j → %s', (message, marker) => {
    expect(skipCiMarker(message)).toBe(marker);
  });

  it('applies to push and pull_request runs only', () => {
    expect(['push', 'tag', 'pull_request', 'cron', 'manual', 'api'].filter((e) => skipsEvent(e as never))).toEqual(['push', 'pull_request']);
  });
});

describe('when: does a job run', () => {
  it.each([
    ['no when, after success', null, push('x'), 'success', true],
    ['no when, after a failure', null, push('x'), 'failure', false],
    ['status failure, after a failure', { status: ['failure'] }, push('x'), 'failure', true],
    ['status failure, after success', { status: ['failure'] }, push('x'), 'success', false],
    ['status always, after a failure', { status: ['always'] }, push('x'), 'failure', true],
    ['branch main on main', { branch: ['main'] }, push('main'), 'success', true],
    ['branch main on dev', { branch: ['main'] }, push('dev'), 'success', false],
    ['event manual on a push', { event: ['manual'] }, push('main'), 'success', false],
    ['event pull_request on a pull request', { event: ['pull_request'] }, pr('feature', 'main'), 'success', true],
    ['event push on a pull request', { event: ['push'] }, pr('feature', 'main'), 'success', false],
    ['branch on a pull request: its source branch', { branch: ['feature'] }, pr('feature', 'main'), 'success', true],
    ['paths on a matching change', { paths: ['api/**'] }, push('main', ['api/x.ts']), 'success', true],
    ['paths on another change', { paths: ['api/**'] }, push('main', ['web/x.ts']), 'success', false],
    ['paths when the changes are unknown', { paths: ['api/**'] }, push('main', null), 'success', true],
  ] as const)('%s → %s', (_name, when, facts, before, expected) => {
    expect(whenMatches(when as never, facts, before)).toBe(expected);
  });
});
