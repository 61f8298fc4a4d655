// One row per validation rule: real YAML text in, the exact message and position out.
import { describe, expect, it } from 'vitest';
import { problemsOf, yaml } from './helpers.js';

const job = (body: string) => `jobs:\n  build:\n${body.replace(/^/gm, '    ')}\n`;

describe('schema rules', () => {
  it.each([
    ['unknown top-level key', 'jbos: {}\njobs:\n  a:\n    steps: [{run: x}]\n', 1, 1, 'jbos: unknown key "jbos" (did you mean "jobs"?)'],
    ['unknown job key', job('stpes: []\nsteps: [{run: x}]'), 3, 5, 'jobs.build.stpes: unknown key "stpes" (did you mean "steps"?)'],
    ['unknown step key', job('steps:\n  - run: x\n    timout: 5m'), 5, 9, 'jobs.build.steps[0].timout: unknown key "timout" (did you mean "timeout"?)'],
    ['unknown on key', 'on:\n  pull_requests: {}\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 3, 'on.pull_requests: unknown key "pull_requests" (did you mean "pull_request"?)'],
    ['unknown on.pull_request key', 'on:\n  pull_request: { tags: [v1] }\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 19, 'on.pull_request.tags: unknown key "tags"'],
    ['a pull_request trigger that is a list', 'on:\n  pull_request: [main]\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 17, 'on.pull_request: expected true, false or a mapping with branches/paths'],
    ['unknown when key', job('when: { brnch: main }\nsteps: [{run: x}]'), 3, 13, 'jobs.build.when.brnch: unknown key "brnch" (did you mean "branch"?)'],
    ['a step without run', job('steps:\n  - name: compile'), 4, 9, 'jobs.build.steps[0]: missing required key "run"'],
    ['a step written as a string', job('steps:\n  - make'), 4, 9, 'jobs.build.steps[0]: a step is a mapping with `run:` (write `- run: make test`)'],
    ['a job without steps', job('image: alpine'), 3, 5, 'jobs.build: missing required key "steps"'],
    ['an empty step list', job('steps: []'), 3, 12, 'jobs.build.steps: a job needs at least one step'],
    ['run that is not a string', job('steps:\n  - run: 42'), 4, 14, 'jobs.build.steps[0].run: expected a string'],
    ['a bad duration', job('timeout: 90x\nsteps: [{run: x}]'), 3, 14, 'jobs.build.timeout: expected a duration such as 90s, 5m or 1h30m'],
    ['a bare number as duration', job('timeout: 90\nsteps: [{run: x}]'), 3, 14, 'jobs.build.timeout: expected a duration such as 90s, 5m or 1h30m'],
    ['a bad step duration', job('steps:\n  - run: x\n    timeout: 5 minutes'), 5, 18, 'jobs.build.steps[0].timeout: expected a duration such as 90s, 5m or 1h30m'],
    ['a bad docker mode', job('docker: docker\nsteps: [{run: x}]'), 3, 13, 'jobs.build.docker: expected dood or dind'],
    ['a bad pull policy', job('pull: sometimes\nsteps: [{run: x}]'), 3, 11, 'jobs.build.pull: expected always, if-not-present or never'],
    ['a negative retry', job('retry: -1\nsteps: [{run: x}]'), 3, 12, 'jobs.build.retry: expected 0 or more'],
    ['a fractional retry', job('retry: 1.5\nsteps: [{run: x}]'), 3, 12, 'jobs.build.retry: expected a whole number'],
    ['needs that is a number', job('needs: 3\nsteps: [{run: x}]'), 3, 12, 'jobs.build.needs: expected a job name or a list of them'],
    ['an unknown key in a needs entry', 'jobs:\n  a:\n    steps: [{run: x}]\n  b:\n    needs: [{ job: a, artifact: false }]\n    steps: [{run: x}]\n', 5, 23, 'jobs.b.needs[0].artifact: unknown key "artifact" (did you mean "artifacts"?)'],
    ['a bad artifacts when', job('artifacts: { paths: [dist], when: failure }\nsteps: [{run: x}]'), 3, 39, 'jobs.build.artifacts.when: expected on_success, on_failure or always'],
    ['a bad cache policy', job('cache: { key: k, paths: [.npm], policy: read }\nsteps: [{run: x}]'), 3, 45, 'jobs.build.cache.policy: expected pull, push or pull-push'],
    ['an unknown cache key', job('cache: { key: k, paths: [.npm], restore_key: [k] }\nsteps: [{run: x}]'), 3, 37, 'jobs.build.cache.restore_key: unknown key "restore_key" (did you mean "restore_keys"?)'],
    ['an env value that is a list', 'env:\n  A: [1]\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 6, 'env.A: expected a string value'],
    ['an env name with a dash', 'env:\n  MY-VAR: x\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 3, 'env.MY-VAR: "MY-VAR": an environment variable name is letters, digits and _, not starting with a digit'],
    ['a job name with a space', 'jobs:\n  "my job":\n    steps: [{run: x}]\n', 2, 3, 'jobs."my job": "my job": a job name is letters and digits (of any script), _, . and -'],
    ['an unknown when event', job('when: { event: pull }\nsteps: [{run: x}]'), 3, 20, 'jobs.build.when.event: expected one of push, tag, pull_request, cron, manual, api or a list of them'],
    ['an empty matrix axis', job('matrix: { node: [] }\nsteps: [{run: x}]'), 3, 21, 'jobs.build.matrix.node: a matrix axis needs at least one value'],
    ['a service without image', job('services:\n  db: { env: { A: b } }\nsteps: [{run: x}]'), 4, 11, 'jobs.build.services.db: missing required key "image"'],
    ['approval that is not a boolean', job('approval: yes please\nsteps: [{run: x}]'), 3, 15, 'jobs.build.approval: expected true or false'],
    ['a cron entry without schedule', 'on:\n  cron:\n    - branch: main\njobs:\n  a:\n    steps: [{run: x}]\n', 3, 7, 'on.cron[0]: missing required key "schedule"'],
  ])('%s', (_rule, text, line, col, message) => {
    expect(problemsOf(text)).toEqual([expect.objectContaining({ line, col, message })]);
  });
});

describe('lint rules', () => {
  it.each([
    ['an unknown need', 'jobs:\n  lint:\n    steps: [{run: x}]\n  test:\n    needs: [lnt]\n    steps: [{run: x}]\n', 5, 13, 'jobs.test.needs[0]: needs "lnt", but there is no such job (did you mean "lint"?)'],
    ['a job that needs itself', 'jobs:\n  a:\n    needs: a\n    steps: [{run: x}]\n', 3, 12, 'jobs.a.needs: needs form a cycle: a → a'],
    ['a three-job cycle', 'jobs:\n  a:\n    needs: [c]\n    steps: [{run: x}]\n  b:\n    needs: [a]\n    steps: [{run: x}]\n  c:\n    needs: [b]\n    steps: [{run: x}]\n', 3, 12, 'jobs.a.needs: needs form a cycle: a → c → b → a'],
    ['duplicate names after matrix expansion', job('matrix: { node: [18, "18"] }\nsteps: [{run: x}]'), 3, 13, 'jobs.build.matrix: the matrix makes two jobs named "build (node=18)"; its values must differ'],
    ['more than 256 jobs after expansion', job('matrix: { a: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17], b: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16] }\nsteps: [{run: x}]'), 1, 1, 'jobs: the pipeline has 272 jobs after matrix expansion; at most 256 are allowed'],
    ['a cron with four fields', 'on:\n  cron:\n    - schedule: "0 3 * *"\njobs:\n  a:\n    steps: [{run: x}]\n', 3, 17, 'on.cron[0].schedule: bad cron expression "0 3 * *": expected 5 or 6 fields but got 4'],
    ['a cron minute out of range', 'on:\n  cron:\n    - schedule: "61 3 * * *"\njobs:\n  a:\n    steps: [{run: x}]\n', 3, 17, 'on.cron[0].schedule: bad cron expression "61 3 * * *": 61 is a invalid expression for minute'],
    ['an unknown time zone', 'on:\n  cron:\n    - schedule: "0 3 * * *"\n      timezone: Mars/Olympus\njobs:\n  a:\n    steps: [{run: x}]\n', 4, 17, 'on.cron[0].timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Paris)'],
    ['a secrets expression', job('steps:\n  - run: echo ${{ secrets.KEY }}'), 4, 14, 'jobs.build.steps[0].run: secrets are not expressions: did you mean `secrets: [KEY]` on the job and `$KEY` in the step?'],
    ['a code expression', job('steps:\n  - run: echo ${{ 1 + 1 }}'), 4, 14, 'jobs.build.steps[0].run: unsupported expression "${{ 1 + 1 }}": only matrix.NAME, inputs.NAME, env.NAME and hashFiles(\'glob\') are allowed'],
    ['an unclosed expression', job('steps:\n  - run: echo ${{ env.A'), 4, 14, 'jobs.build.steps[0].run: an expression opened with ${{ is never closed with }}'],
    ['a matrix axis that does not exist', job('matrix: { node: ["18"] }\nimage: node:${{ matrix.nod }}\nsteps: [{run: x}]'), 4, 12, 'jobs.build.image: the matrix has no axis "nod" (did you mean "node"?)'],
    ['matrix in a job without one', job('steps:\n  - run: echo ${{ matrix.node }}'), 4, 14, 'jobs.build.steps[0].run: ${{ matrix.node }} is only available in a job with a matrix'],
    ['matrix in the pipeline env', 'env:\n  A: ${{ matrix.x }}\njobs:\n  a:\n    steps: [{run: x}]\n', 2, 6, 'env.A: ${{ matrix.x }} is only available in a job with a matrix'],
    ['an env expression in runs-on', job('runs-on: ${{ env.POOL }}\nsteps: [{run: x}]'), 3, 14, 'jobs.build.runs-on: only ${{ matrix.NAME }} and ${{ inputs.NAME }} are allowed in `runs-on`: the server reads it before any agent runs'],
    ['an expression in needs', 'jobs:\n  a:\n    steps: [{run: x}]\n  b:\n    needs: ["${{ env.A }}"]\n    steps: [{run: x}]\n', 5, 13, 'jobs.b.needs[0]: expressions are not allowed in `needs`'],
    ['an expression in on', 'on:\n  push:\n    branches: ["${{ env.B }}"]\njobs:\n  a:\n    steps: [{run: x}]\n', 3, 16, 'on.push.branches[0]: expressions are not allowed in `on`'],
  ])('%s', (_rule, text, line, col, message) => {
    expect(problemsOf(text)).toEqual([expect.objectContaining({ line, col, message })]);
  });

  it('reports every problem of a file at once, in file order', () => {
    const text = yaml`
      on:
        push: { branch: main }
      jobs:
        a:
          needs: [zz]
          timeout: soon
          steps:
            - name: no run here
        b:
          docker: yes
          steps: [{ run: "echo \${{ nope }}" }]
    `;
    expect(problemsOf(text).map((p) => [p.line, p.message])).toEqual([
      [2, 'on.push.branch: unknown key "branch" (did you mean "branches"?)'],
      [5, 'jobs.a.needs[0]: needs "zz", but there is no such job'],
      [6, 'jobs.a.timeout: expected a duration such as 90s, 5m or 1h30m'],
      [8, 'jobs.a.steps[0]: missing required key "run"'],
      [10, 'jobs.b.docker: expected dood or dind'],
      [11, 'jobs.b.steps[0].run: unsupported expression "${{ nope }}": only matrix.NAME, inputs.NAME, env.NAME and hashFiles(\'glob\') are allowed'],
    ]);
  });

  it('accepts the allowed expressions where they belong', () => {
    const text = yaml`
      env: { A: "\${{ env.HOME }}" }
      jobs:
        test:
          matrix: { node: ["18", "20"], os: [linux] }
          runs-on: ["\${{ matrix.os }}"]
          image: node:\${{ matrix.node }}-bookworm-slim
          cache: { key: "npm-\${{ hashFiles('package-lock.json', \\"yarn.lock\\") }}", paths: [.npm] }
          steps: [{ run: "echo \${{ env.A }} \${{ matrix.node }}" }]
    `;
    expect(problemsOf(text)).toEqual([]);
  });
});
