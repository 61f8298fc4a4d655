import { describe, expect, it } from 'vitest';
import { expandRuntimeExpressions, findExpressions, formatDuration, parseDuration, substituteMatrix } from '../../../shared/pipeline/index.js';

describe('expressions', () => {
  it('substitutes matrix values and leaves the rest for the agent', () => {
    expect(substituteMatrix('node:${{ matrix.node }} ${{ env.HOME }}', { node: '20' })).toBe('node:20 ${{ env.HOME }}');
  });

  it('expands env and hashFiles at run time; an unset variable is empty', () => {
    const seen: string[][] = [];
    const text = expandRuntimeExpressions("k-${{ env.A }}-${{env.NOPE}}-${{ hashFiles('a/*.json', \"b\") }}", {
      env: { A: 'x' },
      hashFiles: (globs) => {
        seen.push(globs);
        return 'abc';
      },
    });
    expect(text).toBe('k-x--abc');
    expect(seen).toEqual([['a/*.json', 'b']]);
  });

  it('never evaluates anything: other forms are reported, not run', () => {
    expect(findExpressions('${{ process.exit(1) }}')[0]!.parsed.kind).toBe('invalid');
    expect(findExpressions("${{ hashFiles('a') + 1 }}")[0]!.parsed.kind).toBe('invalid');
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['1d2h3m4s', 93_784_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(['', '90', 's', '5 m', '1m1h', '1.5h', '-5m'])('"%s" is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
