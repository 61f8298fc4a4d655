import { describe, expect, it } from 'vitest';
import { triggerMatches, whenMatches, type RunFacts } from '../../../shared/pipeline/index.js';
import { planOf } from './helpers.js';

const push = (branch: string, changedPaths: string[] | null = null): RunFacts => ({ event: 'push', branch, tag: null, changedPaths });
const tag = (name: string): RunFacts => ({ event: 'tag', branch: null, tag: name, changedPaths: null });

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
  ] as const)('%s → %s', (_name, triggers, facts, expected) => {
    expect(triggerMatches(triggers, facts as RunFacts)).toBe(expected);
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
    ['paths on a matching change', { paths: ['api/**'] }, push('main', ['api/x.ts']), 'success', true],
    ['paths on another change', { paths: ['api/**'] }, push('main', ['web/x.ts']), 'success', false],
    ['paths when the changes are unknown', { paths: ['api/**'] }, push('main', null), 'success', true],
  ] as const)('%s → %s', (_name, when, facts, before, expected) => {
    expect(whenMatches(when as never, facts, before)).toBe(expected);
  });
});
