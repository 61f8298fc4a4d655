import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema, whenMatches } from '../../../shared/pipeline/index.js';
import { planOf, problemsOf, yaml } from './helpers.js';

const facts = { event: 'push' as const, branch: 'main', tag: null, changedPaths: null };

describe('matrix include and exclude, as in GitHub Actions', () => {
  const spec = yaml`
    jobs:
      test:
        name: test on node \${{ matrix.node }} \${{ matrix.os }}
        matrix:
          node: [18, 20, 22]
          os: [linux, mac]
          exclude:
            - { node: 18, os: mac }
          include:
            - { node: 20, coverage: true }
            - { node: 22, os: linux, experimental: yes }
            - { node: 24, os: linux }
        steps:
          - run: npm test
          - run: npm run coverage
            when: { matrix: { coverage: "true" } }
      report:
        needs: test
        matrix: { node: ["18", "20"] }
        when: { matrix: { node: "20" } }
        steps: [{ run: echo done }]
  `;

  it('drops excluded combinations, adds include variables without overwriting axes, and adds a combination that fits none', () => {
    const plan = planOf(spec);
    const tests = plan.jobs.filter((j) => j.key === 'test');
    expect(tests.map((j) => j.matrix)).toEqual([
      { node: '18', os: 'linux' },
      { node: '20', os: 'linux', coverage: 'true' },
      { node: '20', os: 'mac', coverage: 'true' },
      { node: '22', os: 'linux', experimental: 'yes' },
      { node: '22', os: 'mac' },
      { node: '24', os: 'linux' },
    ]);
  });

  it('names each matrix job from `name:`, and `needs` on the key means all of them', () => {
    const plan = planOf(spec);
    expect(plan.jobs.filter((j) => j.key === 'test').map((j) => j.name)).toEqual([
      'test on node 18 linux', 'test on node 20 linux', 'test on node 20 mac',
      'test on node 22 linux', 'test on node 22 mac', 'test on node 24 linux',
    ]);
    expect(plan.jobs.find((j) => j.key === 'report')!.needs).toHaveLength(6);
  });

  it('decides `when: {matrix}` per combination, for steps and jobs', () => {
    const plan = planOf(spec);
    const coverage = plan.jobs.filter((j) => j.key === 'test').map((j) => j.steps[1]!.when!.matrixMatches);
    expect(coverage).toEqual([false, true, true, false, false, false]);
    const [on18, on20] = plan.jobs.filter((j) => j.key === 'report');
    expect(on18!.when).toEqual({ matrix: { node: ['20'] }, matrixMatches: false });
    expect(whenMatches(on18!.when, facts, 'success')).toBe(false);
    expect(whenMatches(on20!.when, facts, 'success')).toBe(true);
  });

  it('leaves a variable only some includes give empty in the other combinations', () => {
    const plan = planOf(yaml`
      jobs:
        t:
          matrix: { node: [18, 20], include: [{ node: 20, flag: --coverage }] }
          steps: [{ run: "npm test \${{ matrix.flag }}" }]
    `);
    expect(plan.jobs.map((j) => j.steps[0]!.run)).toEqual(['npm test ', 'npm test --coverage']);
  });

  it('makes a matrix of `include` alone, one job per entry', () => {
    const plan = planOf(yaml`
      jobs:
        lint:
          matrix:
            include:
              - { node: 20, task: lint }
              - { node: 22, task: types }
          steps: [{ run: "npm run \${{ matrix.task }}" }]
    `);
    expect(plan.jobs.map((j) => [j.name, j.steps[0]!.run])).toEqual([
      ['lint (node=20, task=lint)', 'npm run lint'],
      ['lint (node=22, task=types)', 'npm run types'],
    ]);
  });

  it('refuses a `when: {matrix}` on a variable the matrix does not have', () => {
    expect(problemsOf(yaml`
      jobs:
        a:
          matrix: { node: [20] }
          when: { matrix: { nod: "20" } }
          steps: [{ run: x, when: { matrix: { os: linux } } }]
        b: { when: { matrix: { node: "20" } }, steps: [{ run: x }] }
    `).map((p) => [p.line, p.message])).toEqual([
      [4, 'jobs.a.when.matrix.nod: the matrix has no axis "nod" (did you mean "node"?)'],
      [5, 'jobs.a.steps[0].when.matrix.os: the matrix has no axis "os"'],
      [6, 'jobs.b.when.matrix.node: the matrix has no axis "node": the job has no matrix'],
    ]);
  });

  it('refuses two jobs named alike and a matrix of nothing', () => {
    expect(problemsOf(yaml`
      jobs:
        a: { name: same, steps: [{ run: x }] }
        b: { name: same, steps: [{ run: x }] }
        c: { name: "c \${{ matrix.os }}", matrix: { os: [x, y], node: [1, 2] }, steps: [{ run: x }] }
        d: { matrix: { exclude: [{ os: x }] }, steps: [{ run: x }] }
    `).map((p) => p.message)).toEqual([
      'jobs.b: jobs "a" and "b" are both named "same"',
      'jobs.c.name: the matrix makes two jobs named "c x"; its values must differ',
      'jobs.c.name: the matrix makes two jobs named "c y"; its values must differ',
      'jobs.d.matrix: a matrix needs an axis or an `include`',
    ]);
  });
});

describe('working-directory', () => {
  it('applies the job\'s to every step, a step\'s own wins', () => {
    const plan = planOf(yaml`
      jobs:
        a:
          working-directory: packages/core
          steps:
            - run: npm test
            - run: ls
              working-directory: docs/./site
    `);
    expect(plan.jobs[0]!.steps.map((s) => s.workingDirectory)).toEqual(['packages/core', 'docs/./site']);
  });

  it.each(['/etc', '../up', 'a/../../b'])('refuses %s, which leaves the workspace', (dir) => {
    const problems = problemsOf(yaml`
      jobs:
        a:
          steps: [{ run: ls, working-directory: "${dir}" }]
    `);
    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['jobs.a.steps[0].working-directory', 3, 'jobs.a.steps[0].working-directory: working-directory must be a relative path inside the workspace (no leading /, no ..)'],
    ]);
  });
});

describe('the ${{ secrets.X }} hint', () => {
  it('points to `secrets:` and the variable', () => {
    expect(problemsOf(yaml`
      jobs:
        deploy:
          steps: [{ run: "curl -H \${{ secrets.TOKEN }} x" }]
    `).map((p) => p.message)).toEqual([
      'jobs.deploy.steps[0].run: secrets are not expressions: did you mean `secrets: [TOKEN]` on the job and `$TOKEN` in the step?',
    ]);
  });
});

describe('the JSON Schema for these keys', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, formats: { uri: true } }).compile(pipelineJsonSchema());
  it('takes include, exclude, name, working-directory and when.matrix', () => {
    const doc = parse(yaml`
      jobs:
        t:
          name: t \${{ matrix.node }}
          working-directory: app
          matrix: { node: [20], include: [{ node: 22, extra: true }], exclude: [{ node: 20 }] }
          when: { matrix: { node: ["20", "22"] } }
          steps: [{ run: x, working-directory: app/sub, when: { status: failure, matrix: { node: "20" } } }]
    `);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ jobs: { t: { matrix: { include: 'x' }, steps: [{ run: 'x' }] } } })).toBe(false);
  });
});
