// How `kiln secret set` reads what it is given: a piped value's newline, and scope lists whose
// globs may hold commas of their own.
import { describe, expect, it } from 'vitest';
import { piped, splitList } from '../../scripts/cli/secret.js';

describe('kiln secret set input', () => {
  it.each([
    ['value\n', 'value'],
    ['value\r\n', 'value'],
    ['value', 'value'],
    ['value\n\n', 'value\n\n'],
    ['-----BEGIN KEY-----\nabc\n-----END KEY-----\n', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n'],
    ['\n', ''],
  ])('takes %j as %j', (text, value) => {
    expect(piped(text)).toBe(value);
  });

  it.each([
    ['main', ['main']],
    ['main, release/*', ['main', 'release/*']],
    ['release/{1,2}.*,main', ['release/{1,2}.*', 'main']],
    ['', []],
    ['a,,b', ['a', '', 'b']],
  ])('splits %j into %j', (text, list) => {
    expect(splitList(text)).toEqual(list);
  });
});
