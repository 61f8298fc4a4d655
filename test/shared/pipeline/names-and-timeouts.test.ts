// Job names in any script, and the cap on timeouts: real YAML in, plan or exact problem out.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../../shared/pipeline/index.js';
import { planOf, problemsOf, yaml } from './helpers.js';

describe('job and step names', () => {
  it('accepts a job named in Chinese and a step named in Cyrillic, and keeps both names in the plan', () => {
    const plan = planOf(yaml`
      jobs:
        构建:
          steps:
            - name: сборка
              run: make
        テスト:
          needs: [构建]
          steps: [{ run: make test }]
    `);
    expect(plan.jobs.map((j) => j.name)).toEqual(['构建', 'テスト']);
    expect(plan.jobs[0]!.steps[0]!.name).toBe('сборка');
    expect(plan.jobs[1]!.needs).toEqual(['构建']);
  });

  it('accepts digits of other scripts and combining marks (Devanagari)', () => {
    expect(problemsOf('jobs:\n  परीक्षण-२:\n    steps: [{run: x}]\n')).toEqual([]);
  });

  it('names matrix jobs from a non-Latin key as before: `测试 (node=18)`', () => {
    const plan = planOf('jobs:\n  测试:\n    matrix: { node: [18, 20] }\n    steps: [{run: x}]\n');
    expect(plan.jobs.map((j) => j.name)).toEqual(['测试 (node=18)', '测试 (node=20)']);
  });

  it('the published JSON Schema agrees: 构建 is a job name, "构建 x" is not', () => {
    const validate = new Ajv2020({ strict: false, formats: { uri: true } }).compile(pipelineJsonSchema());
    expect(validate({ jobs: { 构建: { steps: [{ run: 'x' }] } } })).toBe(true);
    expect(validate({ jobs: { '构建 x': { steps: [{ run: 'x' }] } } })).toBe(false);
  });

  it.each([
    ['a space', '"构建 x"'],
    ['a slash', '"a/b"'],
    ['a leading dash', '"-构建"'],
    ['an emoji', '"🚀"'],
  ])('refuses a job name with %s, at the key', (_what, key) => {
    expect(problemsOf(`jobs:\n  ${key}:\n    steps: [{run: x}]\n`)).toEqual([
      expect.objectContaining({ line: 2, col: 3, message: expect.stringContaining('a job name is letters and digits (of any script), _, . and -') }),
    ]);
  });
});

describe('timeouts', () => {
  it('plans a 30-day job timeout and a 365-day step timeout in milliseconds', () => {
    const plan = planOf('jobs:\n  a:\n    timeout: 30d\n    steps:\n      - run: x\n        timeout: 365d\n');
    expect(plan.jobs[0]!.timeoutMs).toBe(30 * 86_400_000);
    expect(plan.jobs[0]!.steps[0]!.timeoutMs).toBe(365 * 86_400_000);
  });

  it('refuses a job timeout over 365 days with its position', () => {
    expect(problemsOf('jobs:\n  a:\n    timeout: 366d\n    steps: [{run: x}]\n')).toEqual([
      expect.objectContaining({ line: 3, col: 14, message: 'jobs.a.timeout: a timeout is at most 365d' }),
    ]);
  });

  it('refuses a step timeout over 365 days written in hours, and one in defaults', () => {
    const problems = problemsOf('defaults:\n  timeout: 400d\njobs:\n  a:\n    steps:\n      - run: x\n        timeout: 8761h\n');
    expect(problems.map((p) => [p.line, p.col, p.message])).toEqual([
      [2, 12, 'defaults.timeout: a timeout is at most 365d'],
      [7, 18, 'jobs.a.steps[0].timeout: a timeout is at most 365d'],
    ]);
  });
});
