import { describe, expect, it } from 'vitest';
import { matchesGlobs } from '../../shared/glob.js';

describe('globs', () => {
  it.each([
    ['main', ['main'], true],
    ['release/1.2', ['release/*'], true],
    ['release/1.2/hotfix', ['release/*'], false],
    ['release/1.2/hotfix', ['release/**'], true],
    ['src/a/b.ts', ['src/**'], true],
    ['package.json', ['package*.json'], true],
    ['package-lock.json', ['package*.json'], true],
    ['docs/x/package.json', ['package*.json'], false],
    ['x.md', ['**/*.md'], true],
    ['a/b/x.md', ['**/*.md'], true],
    ['v1.2.3', ['v*'], true],
    ['1.2.3', ['v*'], false],
    ['feature/x', ['**', '!feature/*'], false],
    ['fix/x', ['**', '!feature/*'], true],
    ['feature/x', ['!main'], true],
    ['api', ['{api,web}'], true],
    ['a.c', ['a?c'], true],
    ['a/c', ['a?c'], false],
    ['v2', ['v[0-9]'], true],
    ['a+b(c)', ['a+b(c)'], true],
  ])('%s against %j → %s', (value, globs, expected) => {
    expect(matchesGlobs(value, globs)).toBe(expected);
  });
});
