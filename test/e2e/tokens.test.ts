// End to end: wrong tokens are refused, with a clear word, by the agent endpoint and by git over
// /git/:repo.git; the admin and agent tokens are let in.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { ADMIN_TOKEN, AGENT_TOKEN, eventually, killAll, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const exec = promisify(execFile);
let server: ServerProcess;
let repo: TestRepo;
let sha: string;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo built }]\n' });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

/** `git ls-remote` of the server's web repo, sending `token` as a bearer header (none when null). */
function lsRemote(token: string | null) {
  const header = token === null ? [] : ['-c', `http.extraHeader=Authorization: Bearer ${token}`];
  return exec('git', [...header, 'ls-remote', `${server.url}/git/web.git`], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
    .then(({ stdout }) => ({ ok: true as const, stdout }), (error: { stderr: string }) => ({ ok: false as const, stderr: error.stderr }));
}

describe('tokens', () => {
  it('an agent with a wrong token says so in one line and never receives a job, which stays queued with a reason', async () => {
    const run = await runOfCommit(server, 'web', sha);
    const agent = await startAgent(server, { name: 'wrong-token-agent', token: 'not-the-agent-token' });
    const refusal = await eventually(() => agent.output().split('\n').find((l) => l.includes('token refused')), 15_000, 'the refusal');
    const entry = JSON.parse(refusal) as { msg: string; status: number };
    expect(entry.msg).toMatch(/^agent token refused by server \(401\); check --token or KILN_AGENT_TOKEN; retrying in/);
    expect(entry.status).toBe(401);
    expect(agent.output()).not.toContain('not-the-agent-token');
    expect(agent.proc.exitCode).toBeNull(); // it keeps trying, slowly

    expect((await server.api('GET', '/api/agents')).body).toEqual([]);
    const job = (await server.api('GET', `/api/runs/${run.id}`)).body.jobs[0];
    expect(job).toMatchObject({ status: 'queued', agent: null, attempt: 0 });
    const queued = (await server.api('GET', '/api/queue')).body.find((j: { id: number }) => j.id === job.id);
    expect(queued.reason).toMatch(/no .*agent.* has the labels \[\]/);
  });

  it('git over /git/:repo.git refuses a wrong or missing token with 401 and serves the admin and agent tokens', async () => {
    const refused = await fetch(`${server.url}/git/web.git/info/refs?service=git-upload-pack`, { headers: { authorization: 'Bearer wrong' } });
    expect(refused.status).toBe(401);
    expect((await fetch(`${server.url}/git/web.git/info/refs?service=git-upload-pack`)).status).toBe(401);
    for (const token of ['wrong', null]) {
      const result = await lsRemote(token);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.stderr).toMatch(/401|Authentication failed|could not read Username/);
    }
    for (const token of [ADMIN_TOKEN, AGENT_TOKEN]) {
      const result = await lsRemote(token);
      expect(result).toMatchObject({ ok: true, stdout: expect.stringContaining(`${sha}\trefs/heads/main`) });
    }
  });
});
