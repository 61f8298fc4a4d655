// `kiln repo add|list` on a real server: a folder (given relative to where kiln runs) and a
// remote URL are registered, the list shows each with its default branch and last run, and
// mistakes are one line with the usage, changing nothing.
import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { kilnCli, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  hello:\n    steps: [{ run: echo hello }]\n' });
  server = await startServer();
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const kiln = (...args: string[]) => kilnCli(server, ...args);

describe('kiln repo', () => {
  it('lists nothing yet, saying how to add a repo', async () => {
    expect(await kiln('repo', 'list')).toEqual({ code: 0, stdout: 'no repos yet: kiln repo add NAME PATH|URL\n', stderr: '' });
  });

  it('adds a folder (a relative path is resolved) and shows how to build it; list shows its last run', async () => {
    const added = await kiln('repo', 'add', 'web', relative(process.cwd(), repo.path));
    expect(added.code).toBe(0);
    expect(added.stdout).toBe(`registered web: ${repo.path} (default branch main)\n  build its head now: kiln trigger web   page: ${server.url}/repos/web\n`);
    const { body } = await server.api('POST', '/api/repos/web/runs', {});
    const run = await runEnded(server, body.id);
    const list = await kiln('repo', 'list');
    expect(list.stdout).toMatch(new RegExp(`^NAME\\s+SOURCE\\s+DEFAULT\\s+LAST RUN\\nweb\\s+${repo.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+main\\s+#${run.number} success\\n$`));
  });

  it('refuses mistakes in one line with the usage, and a repo the server refuses with its reason', async () => {
    const before = (await server.api('GET', '/api/repos')).body.length;
    for (const args of [['repo'], ['repo', 'add', 'x'], ['repo', 'remove', 'web'], ['repo', 'list', 'extra'], ['repo', 'add', 'x', '/tmp', '--bogus']]) {
      const got = await kiln(...args);
      expect(got.code, args.join(' ')).toBe(2);
      expect(got.stderr, args.join(' ')).toMatch(/^kiln: repo[^\n]*\n\nUsage: kiln repo add NAME PATH\|URL\n/);
    }
    const twice = await kiln('repo', 'add', 'web', repo.path);
    expect(twice).toMatchObject({ code: 1, stderr: expect.stringMatching(/^kiln: 409: .*web/) });
    const missing = await kiln('repo', 'add', 'other', '/no/such/folder');
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^kiln: 4\d\d: .*\/no\/such\/folder/) });
    expect((await server.api('GET', '/api/repos')).body.length).toBe(before);
  });
});
