// The agent's expressions, globs and step conditions.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandExpressions, hashFiles } from '../../../agent/executors/expressions.js';
import { globToRegExp, matchesGlobs } from '../../../shared/glob.js';
import { stepSkipReason } from '../../../agent/executors/step-when.js';
import { useTempDirs } from '../../helpers/tmp.js';

describe('expressions', () => {
  const tempDir = useTempDirs('kiln-expr-');

  it('replaces ${{ env.X }} with the variable, empty when unset, and leaves other expressions alone', async () => {
    const ctx = { env: { NAME: 'kiln' }, workspace: '/nowhere' };
    expect(await expandExpressions('hi ${{ env.NAME }}/${{env.NAME}} [${{ env.NOPE }}] ${{ matrix.os }}', ctx))
      .toBe('hi kiln/kiln [] ${{ matrix.os }}');
  });

  it('hashes matching workspace files in path order, ignoring .git, and changes with their content', async () => {
    const ws = await tempDir();
    await mkdir(join(ws, 'a'), { recursive: true });
    await mkdir(join(ws, '.git'), { recursive: true });
    await writeFile(join(ws, 'a', 'package-lock.json'), 'one');
    await writeFile(join(ws, 'package-lock.json'), 'two');
    await writeFile(join(ws, '.git', 'package-lock.json'), 'ignored');
    const first = await hashFiles(ws, ['**/package-lock.json']);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await expandExpressions(`\${{ hashFiles("**/package-lock.json") }}`, { env: {}, workspace: ws })).toBe(first);
    expect(await hashFiles(ws, ['package-lock.json'])).not.toBe(first);
    expect(await hashFiles(ws, ['**/package-lock.json', '!a/**'])).toBe(await hashFiles(ws, ['package-lock.json']));
    await writeFile(join(ws, 'a', 'package-lock.json'), 'changed');
    expect(await hashFiles(ws, ['**/package-lock.json'])).not.toBe(first);
    expect(await hashFiles(ws, ['*.none'])).toBe('');
  });
});

describe('globs', () => {
  it.each([
    ['src/**', 'src/a/b.ts', true],
    ['src/*', 'src/a/b.ts', false],
    ['**/*.json', 'package.json', true],
    ['package*.json', 'package-lock.json', true],
    ['release/*', 'release/1.0', true],
    ['*.{js,ts}', 'a.ts', true],
    ['./a?.txt', 'ab.txt', true],
    ['a.txt', 'aXtxt', false],
  ])('%s matches %s: %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });

  it('excludes with !', () => {
    expect(matchesGlobs('main', ['*', '!main'])).toBe(false);
    expect(matchesGlobs('dev', ['!main'])).toBe(true);
  });
});

describe('step conditions', () => {
  it('says why a step is skipped', () => {
    expect(stepSkipReason(null, { failed: true, env })).toBe('a step before it failed');
    expect(stepSkipReason({ matrix: { node: ['20'] }, matrixMatches: false }, { failed: false, env })).toBe('its `when: {matrix}` does not match this combination');
  });

  const env = { KILN_BRANCH: 'main', KILN_EVENT: 'push' };
  it.each([
    [null, false, true],
    [null, true, false],
    [{ status: ['failure' as const] }, true, true],
    [{ status: ['failure' as const] }, false, false],
    [{ status: ['always' as const] }, true, true],
    [{ branch: ['release/*'] }, false, false],
    [{ branch: ['main'], event: ['push'] }, false, true],
    [{ event: ['tag'] }, false, false],
    [{ matrix: { node: ['20'] }, matrixMatches: true }, false, true],
    [{ matrix: { node: ['20'] }, matrixMatches: false }, false, false],
  ])('when %j after failure=%s runs: %s', (when, failed, expected) => {
    expect(stepSkipReason(when, { failed, env }) === null).toBe(expected);
  });
});
