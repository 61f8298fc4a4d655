import { describe, expect, it } from 'vitest';
import { problemsOf, yaml } from './helpers.js';

describe('parsing pipeline.yml', () => {
  it('refuses an alias bomb in under a second, with one clear message', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = performance.now();
    const problems = problemsOf(levels.join('\n'));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/too many aliases/);
  });

  it('refuses a 5 MiB document in under a second without parsing it', () => {
    const text = `jobs:\n  big:\n    steps:\n      - run: echo "${'x'.repeat(5 * 1024 * 1024)}"\n`;
    const started = performance.now();
    const problems = problemsOf(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([{ path: '', line: 1, col: 1, message: 'the file is 5.0 MiB; pipeline.yml may be at most 1 MiB' }]);
  });

  it('refuses deep flow nesting before the YAML parser sees it', () => {
    const text = `jobs: ${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const started = performance.now();
    const problems = problemsOf(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems[0]).toMatchObject({ line: 1, message: 'the document is nested too deeply (limit 64 levels)' });
  });

  it('refuses deep block nesting with the line where it gets too deep', () => {
    const text = Array.from({ length: 80 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n') + ' 1\n';
    expect(problemsOf(text)[0]).toMatchObject({ line: 65, message: 'the document is nested too deeply (limit 64 levels)' });
  });

  it('ignores brackets inside quoted strings and comments when measuring depth', () => {
    const deep = '['.repeat(100);
    const text = yaml`
      # ${deep}
      jobs:
        a:
          steps:
            - run: echo '${deep}' "${deep}"
    `;
    expect(problemsOf(text)).toEqual([]);
  });

  it.each([
    ['a duplicate key', 'jobs:\n  a:\n    steps: [{run: x}]\n  a:\n    steps: [{run: y}]\n', 4, 3, 'duplicate key "a"'],
    ['an unclosed flow sequence', 'jobs:\n  a:\n    needs: [b\n', 4, 1, /^invalid YAML: /],
    ['a tab used for indentation', 'jobs:\n\ta: 1\n', 2, 1, /^invalid YAML: Tabs/],
    ['an empty file', '', 1, 1, 'the file is empty; a pipeline needs `jobs:`'],
    ['a document that is a list', '- a\n- b\n', 1, 1, 'pipeline.yml must be a mapping with `jobs:`'],
  ])('reports %s with its line', (_name, text, line, col, message) => {
    const [problem] = problemsOf(text);
    expect(problem).toMatchObject({ line, col });
    if (typeof message === 'string') expect(problem!.message).toBe(message);
    else expect(problem!.message).toMatch(message);
  });

  it('accepts anchors and aliases, with top-level x- keys free to hold them', () => {
    const text = yaml`
      x-step: &step { run: make test }
      jobs:
        a:
          steps: [*step]
    `;
    expect(problemsOf(text)).toEqual([]);
  });
});
