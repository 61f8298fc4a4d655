// `kiln run` as a user runs it: the built CLI in a real git repository, no server.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';

const KILN = join(import.meta.dirname, '../../../dist/bundle/kiln.js');

async function kilnRun(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kilnRunWith({}, cwd, ...args);
}

async function kilnRunWith(env: Record<string, string>, cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [KILN, 'run', ...args], { cwd, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const PIPELINE = `jobs:
  build:
    steps:
      - run: echo "building $KILN_COMMIT_SHA on $KILN_BRANCH for $KILN_EVENT"; cat src.txt; echo junk > junk.txt; mkdir -p ignored; echo x > src.txt
  test:
    needs: [build]
    steps:
      - run: git log -1 --format=%s; cat notes.txt; test "$PWD" = "$KILN_WORKSPACE" && echo in-workspace; test ! -e junk.txt && test ! -e ignored && cat src.txt
  lint:
    steps: [{ run: echo linting }]
`;

let repo: TestRepo;
let sha: string;
beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  sha = await repo.commit({ 'pipeline.yml': PIPELINE, 'src.txt': 'committed source', '.gitignore': 'ignored/\n' }, 'first commit');
  await writeFile(join(repo.path, 'notes.txt'), 'an uncommitted note\n');
});
afterAll(removeTempDirs);

describe('kiln run', () => {
  it('runs every job in a copy of the work tree, prints their logs by name, and exits 0', async () => {
    const result = await kilnRun(repo.path);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`build │ building ${sha} on main for manual`);
    expect(lines).toContain('build │ committed source');
    expect(lines).toEqual(expect.arrayContaining(['test  │ first commit', 'test  │ an uncommitted note', 'test  │ in-workspace', 'lint  │ linting']));
    expect(lines.indexOf('build │ committed source')).toBeLessThan(lines.indexOf('test  │ first commit'));
    expect(lines).toContain('test  │ committed source'); // what build left in the workspace is gone
    expect(result.stdout).toMatch(/\n {2}✔ build +success[^\n]*\n {2}✔ lint +success[^\n]*\n {2}✔ test +success/); // plan order
    expect(lines.at(-2)).toBe('✔ success');
  });

  it('exits 1 when a step fails, and skips the jobs that need the failed one', async () => {
    const failing = PIPELINE.replace('cat src.txt', 'cat src.txt; exit 4');
    await writeFile(join(repo.path, 'failing.yml'), failing);
    const result = await kilnRun(repo.path, 'failing.yml');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('build │ committed source');
    expect(result.stdout).toMatch(/✖ build +failed[^\n]*: step "[^\n]+" failed \(exit 4\)\n/);
    expect(result.stdout).toMatch(/○ test +skipped: a job it needs did not succeed/);
    expect(result.stdout).toMatch(/✔ lint +success/);
  });

  it("passes the agent's KILN_AGENT_ENV_PASSTHROUGH to host jobs, and stops with one line on a bad one", async () => {
    await writeFile(join(repo.path, 'env.yml'), 'jobs:\n  show:\n    steps: [{ run: \'echo "[$JOBENV_SEEN][${OTHER_JOBENV:-}]"\' }]\n');
    const env = { JOBENV_SEEN: 'seen', OTHER_JOBENV: 'hidden' };
    expect((await kilnRunWith(env, repo.path, 'env.yml')).stdout).toContain('show │ [][]');
    expect((await kilnRunWith({ ...env, KILN_AGENT_ENV_PASSTHROUGH: 'JOBENV_*' }, repo.path, 'env.yml')).stdout).toContain('show │ [seen][]');
    const bad = await kilnRunWith({ KILN_AGENT_ENV_PASSTHROUGH: 'KILN_*' }, repo.path, 'env.yml');
    expect(bad).toMatchObject({ code: 1, stdout: '', stderr: 'kiln: KILN_AGENT_ENV_PASSTHROUGH: "KILN_*": kiln\'s own variables (KILN_*, its tokens and settings) are never passed to jobs\n' });
  });

  it('--job runs that job and what it needs, nothing else', async () => {
    const result = await kilnRun(repo.path, '--job', 'test');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('build │ committed source');
    expect(result.stdout).toContain('test  │ in-workspace');
    expect(result.stdout).not.toContain('linting');
    expect((await kilnRun(repo.path, '--job', 'nope')).stderr).toMatch(/no job "nope" in the pipeline \(jobs: build, lint, test\)/);
  });

  it('prints the problems of an invalid pipeline like kiln validate, and exits 1 without running anything', async () => {
    await writeFile(join(repo.path, 'bad.yml'), 'jobs:\n  build:\n    needs: [nope]\n    steps: [{ run: echo hi }]\n');
    const result = await kilnRun(repo.path, 'bad.yml');
    expect(result).toMatchObject({ code: 1, stdout: 'bad.yml:3:13: jobs.build.needs[0]: needs "nope", but there is no such job\n' });
  });

  it('--input gives the pipeline\'s inputs, checked and with defaults, as KILN_INPUT_* and ${{ inputs.NAME }}', async () => {
    await writeFile(join(repo.path, 'inputs.yml'), 'on:\n  manual:\n    inputs:\n      version: {required: true}\n      target: {type: choice, options: [a, b], default: a}\n'
      + 'jobs:\n  show:\n    steps: [{ run: \'echo "$KILN_INPUT_VERSION ${{ inputs.target }}"\' }]\n');
    const result = await kilnRun(repo.path, '--input', 'version=1.0', 'inputs.yml');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toContain('show │ 1.0 a');
    expect(await kilnRun(repo.path, 'inputs.yml')).toMatchObject({ code: 2, stderr: 'kiln run: input "version" is required\n' });
  });
});
