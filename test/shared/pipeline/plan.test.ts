import { describe, expect, it } from 'vitest';
import { planOf, yaml } from './helpers.js';

describe('planning a pipeline', () => {
  const spec = yaml`
    env: { NODE_ENV: test, LEVEL: pipeline }
    defaults:
      image: node:20-bookworm-slim
      runs-on: [linux]
      timeout: 30m
      env: { FROM_DEFAULTS: "1" }
    jobs:
      lint:
        steps:
          - run: npm ci
          - name: lint
            run: npm run lint
      test:
        needs: [lint]
        matrix: { node: ["18", "20"], db: [pg] }
        image: node:\${{ matrix.node }}-bookworm-slim
        env: { LEVEL: job }
        steps:
          - run: |
              echo node \${{ matrix.node }}
              npm test
            env: { LEVEL: step }
            timeout: 1h30m
      image:
        needs: test
        image: docker:dind
        docker: dood
        when: { branch: main, event: [push, manual] }
        steps: [{ run: docker build . }]
  `;

  it('expands the matrix into jobs named after their values', () => {
    const plan = planOf(spec);
    expect(plan.jobs.map((j) => j.name)).toEqual(['lint', 'test (node=18, db=pg)', 'test (node=20, db=pg)', 'image']);
    const test18 = plan.jobs[1]!;
    expect(test18.key).toBe('test');
    expect(test18.matrix).toEqual({ node: '18', db: 'pg' });
    expect(test18.image).toBe('node:18-bookworm-slim');
    expect(test18.steps[0]!.run).toBe('echo node 18\nnpm test\n');
  });

  it('makes needs on a matrix job wait for every one of its expansions', () => {
    const image = planOf(spec).jobs.find((j) => j.name === 'image')!;
    expect(image.needs).toEqual(['test (node=18, db=pg)', 'test (node=20, db=pg)']);
  });

  it('merges defaults under each job, the job winning', () => {
    const [lint, test18, , image] = planOf(spec).jobs;
    expect(lint!.image).toBe('node:20-bookworm-slim');
    expect(image!.image).toBe('docker:dind');
    expect(test18!.runsOn).toEqual(['linux']);
    expect(test18!.timeoutMs).toBe(30 * 60_000);
  });

  it('layers env: pipeline, then defaults and job; the step keeps its own on top', () => {
    const test18 = planOf(spec).jobs[1]!;
    expect(test18.env).toEqual({ NODE_ENV: 'test', LEVEL: 'job', FROM_DEFAULTS: '1' });
    expect(test18.steps[0]!.env).toEqual({ LEVEL: 'step' });
  });

  it('names steps by their name or the first line of run, with the default shell', () => {
    const [lint, test18] = planOf(spec).jobs;
    expect(lint!.steps.map((s) => s.name)).toEqual(['npm ci', 'lint']);
    expect(test18!.steps[0]).toMatchObject({ name: 'echo node 18', shell: 'sh -e', timeoutMs: 90 * 60_000, continueOnError: false });
  });

  it('keeps when as data for the scheduler', () => {
    const image = planOf(spec).jobs.find((j) => j.name === 'image')!;
    expect(image.when).toEqual({ branch: ['main'], event: ['push', 'manual'] });
    expect(image.docker).toBe('dood');
  });

  it('orders jobs topologically and groups them into stages', () => {
    const plan = planOf(yaml`
      jobs:
        deploy: { needs: [build, test], steps: [{ run: x }] }
        test: { needs: build, steps: [{ run: x }] }
        build: { steps: [{ run: x }] }
        docs: { steps: [{ run: x }] }
    `);
    expect(plan.jobs.map((j) => j.name)).toEqual(['build', 'docs', 'test', 'deploy']);
    expect(plan.stages).toEqual([['build', 'docs'], ['test'], ['deploy']]);
  });

  it('is a pure function: the same text gives the same plan', () => {
    expect(JSON.stringify(planOf(spec))).toBe(JSON.stringify(planOf(spec)));
  });

  it('defaults the triggers to a push to any branch plus manual, no pull requests', () => {
    expect(planOf('jobs:\n  a:\n    steps: [{run: x}]\n').triggers).toEqual({
      push: { branches: null, paths: null },
      tags: null,
      pullRequest: null,
      cron: [],
      manual: true,
    });
  });

  it('reads the triggers the pipeline names, and only those', () => {
    const plan = planOf(yaml`
      on:
        push: { branches: [main, "release/*"], paths: "src/**" }
        tags: ["v*"]
        pull_request: { branches: [main, "release/*"] }
        cron: [{ schedule: "0 3 * * *", branch: main, timezone: Europe/Paris }]
        manual: false
      jobs:
        a: { steps: [{ run: x }] }
    `);
    expect(plan.triggers).toEqual({
      push: { branches: ['main', 'release/*'], paths: ['src/**'] },
      tags: ['v*'],
      pullRequest: { branches: ['main', 'release/*'], paths: null },
      cron: [{ schedule: '0 3 * * *', branch: 'main', timezone: 'Europe/Paris' }],
      manual: false,
    });
    expect(planOf('on: { cron: [{ schedule: "@daily" }] }\njobs:\n  a:\n    steps: [{run: x}]\n').triggers.push).toBeNull();
  });

  it('takes on.pull_request as a mapping, empty, true or false, as on.push', () => {
    const pr = (on: string) => planOf(`on:\n  ${on}\njobs:\n  a:\n    steps: [{run: x}]\n`).triggers.pullRequest;
    expect(pr('pull_request: {}')).toEqual({ branches: null, paths: null });
    expect(pr('pull_request:')).toEqual({ branches: null, paths: null });
    expect(pr('pull_request: true')).toEqual({ branches: null, paths: null });
    expect(pr('pull_request: { branches: main, paths: "src/**" }')).toEqual({ branches: ['main'], paths: ['src/**'] });
    expect(pr('pull_request: false')).toBeNull();
    expect(pr('push: {}')).toBeNull();
  });

  it('turns env numbers and booleans into strings', () => {
    const plan = planOf('env: { PORT: 5432, DEBUG: true }\njobs:\n  a:\n    steps: [{run: x}]\n');
    expect(plan.jobs[0]!.env).toEqual({ PORT: '5432', DEBUG: 'true' });
  });

  it('plans services, cache, artifacts, secrets and deployment settings', () => {
    const job = planOf(yaml`
      jobs:
        deploy:
          services: { db: { image: "postgres:16", env: { POSTGRES_PASSWORD: pw }, ports: [5432] } }
          cache: { key: npm, paths: [.npm] }
          artifacts: { paths: [coverage/], expire: 7d }
          secrets: [DEPLOY_KEY]
          environment: production
          approval: true
          concurrency: production
          retry: 2
          allow_failure: true
          steps: [{ run: ./deploy.sh, continue_on_error: true, shell: bash -e, when: { status: always } }]
    `).jobs[0]!;
    expect(job).toMatchObject({
      services: [{ name: 'db', image: 'postgres:16', env: { POSTGRES_PASSWORD: 'pw' }, command: null, entrypoint: null, ports: [5432] }],
      cache: { key: 'npm', paths: ['.npm'], restoreKeys: [], policy: 'pull-push' },
      artifacts: { name: 'deploy', paths: ['coverage/'], expireMs: 7 * 86_400_000, when: 'on_success' },
      secrets: ['DEPLOY_KEY'],
      environment: 'production',
      approval: true,
      concurrency: 'production',
      retry: 2,
      allowFailure: true,
      pull: 'if-not-present',
    });
    expect(job.steps[0]).toMatchObject({ continueOnError: true, shell: 'bash -e', when: { status: ['always'] } });
  });

  it('plans artifacts and caches with their defaults, and needs that opt out of artifacts', () => {
    const plan = planOf(yaml`
      jobs:
        build:
          matrix: { node: [18, 20] }
          cache: { key: "npm-\${{ hashFiles('package-lock.json') }}", paths: [.npm], restore_keys: [npm-] }
          artifacts: { paths: [dist/] }
          steps: [{ run: make }]
        lint:
          artifacts: { name: report, paths: [report.xml], when: always, expire: 1h }
          cache: { key: lint, paths: [.eslintcache], policy: pull }
          steps: [{ run: make lint }]
        test:
          needs: [{ job: build, artifacts: false }, lint]
          steps: [{ run: make test }]
    `);
    const byName = new Map(plan.jobs.map((j) => [j.name, j]));
    expect(byName.get('build (node=18)')).toMatchObject({
      artifacts: { name: 'build (node=18)', paths: ['dist/'], expireMs: null, when: 'on_success' },
      cache: { key: "npm-\${{ hashFiles('package-lock.json') }}", paths: ['.npm'], restoreKeys: ['npm-'], policy: 'pull-push' },
    });
    expect(byName.get('lint')).toMatchObject({
      artifacts: { name: 'report', when: 'always', expireMs: 3_600_000 },
      cache: { restoreKeys: [], policy: 'pull' },
    });
    expect(byName.get('test')).toMatchObject({ needs: ['build (node=18)', 'build (node=20)', 'lint'], noArtifactsFrom: ['build (node=18)', 'build (node=20)'] });
  });

  it('splits a service command written as one string into words, as Compose does', () => {
    const job = planOf('jobs:\n  a:\n    services:\n      cache: { image: redis, command: "redis-server --appendonly yes --name \'a b\'" }\n    steps: [{ run: x }]\n').jobs[0]!;
    expect(job.services[0]!.command).toEqual(['redis-server', '--appendonly', 'yes', '--name', 'a b']);
  });
});
