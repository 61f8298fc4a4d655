// `kiln validate` as a user runs it: the built CLI in a child process, on real files.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const KILN = join(import.meta.dirname, '../../dist/bundle/kiln.js');

async function kiln(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [KILN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kiln validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-validate-'));

  it('prints a one-line summary and exits 0 for a valid ./pipeline.yml', async () => {
    writeFileSync(join(dir, 'pipeline.yml'), 'jobs:\n  build:\n    steps: [{ run: make }]\n  test:\n    needs: build\n    steps: [{ run: make test }]\n');
    const result = await kiln(['validate'], dir);
    expect(result).toMatchObject({ code: 0, stdout: 'pipeline.yml: valid — 2 jobs in 2 stages: build → test\n' });
  });

  it('prints FILE:LINE:COL: message per problem and exits 1', async () => {
    writeFileSync(join(dir, 'bad.yml'), 'jobs:\n  build:\n    needs: [tset]\n    timeout: 5x\n    steps: [{ run: make }]\n');
    const result = await kiln(['validate', 'bad.yml'], dir);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'bad.yml:3:13: jobs.build.needs[0]: needs "tset", but there is no such job',
      'bad.yml:4:14: jobs.build.timeout: expected a duration such as 90s, 5m or 1h30m',
    ]);
  });

  it('takes on.pull_request and when.event pull_request, and points at a mistake in them', async () => {
    writeFileSync(join(dir, 'pr.yml'), 'on:\n  pull_request: { branches: [main] }\njobs:\n  build:\n    when: { event: pull_request }\n    steps: [{ run: make }]\n');
    expect(await kiln(['validate', 'pr.yml'], dir)).toMatchObject({ code: 0, stdout: 'pr.yml: valid — 1 job in 1 stage: build\n' });
    writeFileSync(join(dir, 'pr-bad.yml'), 'on:\n  pull_request: { branch: [main] }\njobs:\n  build:\n    when: { event: pr }\n    steps: [{ run: make }]\n');
    const result = await kiln(['validate', 'pr-bad.yml'], dir);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'pr-bad.yml:2:19: on.pull_request.branch: unknown key "branch" (did you mean "branches"?)',
      'pr-bad.yml:5:20: jobs.build.when.event: expected one of push, tag, pull_request, cron, manual, api or a list of them',
    ]);
  });

  it('says clearly when the file is missing, and exits 2', async () => {
    const result = await kiln(['validate', 'nope.yml'], dir);
    expect(result).toMatchObject({ code: 2, stderr: 'kiln validate: cannot read nope.yml: no such file\n' });
  });

  it('has --help', async () => {
    const result = await kiln(['validate', '--help'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kiln validate \[FILE\]/);
  });
});

describe('kiln schema', () => {
  it('prints the JSON Schema of pipeline.yml', async () => {
    const result = await kiln(['schema'], tmpdir());
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toMatch(/2020-12/);
    expect(Object.keys(schema.properties)).toEqual(['name', 'on', 'env', 'defaults', 'environments', 'jobs', 'notify']);
  });
});

describe('kiln', () => {
  it('names an unknown command and exits 2', async () => {
    const result = await kiln(['frobnicate'], tmpdir());
    expect(result).toMatchObject({ code: 2, stderr: 'kiln: unknown command "frobnicate" (run `kiln --help`)\n' });
  });
});
