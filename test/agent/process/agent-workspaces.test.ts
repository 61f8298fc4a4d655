// A real `kiln agent` reuses its workspaces from job to job and across restarts, with no git process for a commit it is at.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipDocker } from '../../helpers/docker.js';
import { git, makeTempDir } from '../../helpers/git.js';
import { plannedStep } from '../../helpers/plan.js';
import { useAgentFixture } from './fixture.js';
import { assignment, linesOf } from './peer.js';

const fx = useAgentFixture();

async function gitWrapper(): Promise<{ dir: string; calls(): Promise<string[]> }> {
  const dir = await makeTempDir('kiln-gitwrap-');
  const log = join(dir, 'calls.log');
  const real = `${await git(process.cwd(), '--exec-path')}/git`;
  await writeFile(join(dir, 'git'), `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(real)} "$@"\n`);
  await chmod(join(dir, 'git'), 0o755);
  return { dir, calls: async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean) };
}

describe('kiln agent: workspaces', () => {
  it('reuses the workspace for the next job of the repo at the same commit: no git process, a clean tree, and the log says so', async () => {
    const wrap = await gitWrapper();
    const agent = await fx.agent(['--no-docker'], { env: { PATH: `${wrap.dir}:${process.env.PATH}` } });
    const c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(31, fx.sha, [plannedStep('echo left > junk.txt; mkdir -p node_modules/x')]) });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 31)).toMatchObject({ status: 'success' });
    const before = (await wrap.calls()).length;
    c.send({ type: 'job', assignment: assignment(32, fx.sha, [plannedStep('ls -A')]) });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 32)).toMatchObject({ status: 'success' });
    expect((await wrap.calls()).slice(before)).toEqual([]);
    const lines = linesOf(c.logs().filter((l) => l.jobId === 32));
    expect(lines).toContainEqual(expect.stringMatching(/^kiln: checked out [0-9a-f]{12} in \d+\.\d\d s \(reused workspace, no fetch\)$/));
    expect(lines.slice(lines.indexOf('▶ ls -A') + 1, -2)).toEqual(['.git', 'README.md']);
    expect(existsSync(join(agent.workDir, 'workspaces', 'web', '1', 'junk.txt'))).toBe(false);
  });

  it('keeps reusable workspaces at start and removes broken ones and old leftovers', async () => {
    const workDir = join(await makeTempDir('kiln-agent-'), 'work');
    const first = await fx.agent(['--no-docker'], { workDir });
    let c = await fx.peer.nextConnection();
    c.send({ type: 'job', assignment: assignment(41, fx.sha, [plannedStep('true')]) });
    await c.waitFor((m) => m.type === 'done' && m.jobId === 41);
    await first.kill();
    const ws = join(workDir, 'workspaces');
    await mkdir(join(ws, 'web', '2'), { recursive: true }); // no .git: broken
    await mkdir(join(ws, '11-1', '.git'), { recursive: true }); // an older agent's per-job folder
    await mkdir(join(ws, 'web', '.1.kiln-abc')); // a crashed docker job's step files
    await fx.agent(['--no-docker'], { workDir });
    c = await fx.peer.nextConnection();
    await c.hello;
    expect(existsSync(join(ws, 'web', '1', 'README.md'))).toBe(true);
    for (const gone of [join(ws, 'web', '2'), join(ws, '11-1'), join(ws, 'web', '.1.kiln-abc')]) expect(existsSync(gone)).toBe(false);
    c.send({ type: 'job', assignment: assignment(42, fx.sha, [plannedStep('true')]) });
    await c.waitFor((m) => m.type === 'done' && m.jobId === 42);
    expect(linesOf(c.logs().filter((l) => l.jobId === 42))).toContainEqual(expect.stringMatching(/\(reused workspace, no fetch\)$/));
  });

  it.skipIf(skipDocker())('a reused workspace works in a job container: `git log -1` there, and what the container made is cleaned', async () => {
    await fx.agent(['--docker-network', 'host']);
    const c = await fx.peer.nextConnection();
    const inImage = (jobId: number, run: string) => {
      const a = assignment(jobId, fx.sha, [plannedStep(run)]);
      return { ...a, job: { ...a.job, image: 'node:20-bookworm-slim', pull: 'never' as const } };
    };
    c.send({ type: 'job', assignment: inImage(51, 'git log -1 --format=%H; touch made-in-container') });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 51, 60_000)).toMatchObject({ status: 'success' });
    c.send({ type: 'job', assignment: inImage(52, 'git log -1 --format=%H; ls -A') });
    expect(await c.waitFor((m) => m.type === 'done' && m.jobId === 52, 60_000)).toMatchObject({ status: 'success' });
    const lines = linesOf(c.logs().filter((l) => l.jobId === 52));
    expect(lines).toContainEqual(expect.stringMatching(/\(reused workspace, no fetch\)$/));
    const step = lines.slice(lines.indexOf('▶ git log -1 --format=%H; ls -A') + 1, -2); // the step's and the job's outcome end it
    expect(step).toEqual([fx.sha, '.git', 'README.md']);
  }, 120_000);
});
