// End to end: a remote repo fetched over SSH with a deploy key, from OpenSSH's sshd on
// loopback (test/helpers/ssh-server.ts): the key reaches git as a 0600 file given for the
// fetch only, and is removed after; a wrong key is refused in one line.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, isolateGit, makeTempDir, removeTempDirs } from '../helpers/git.js';
import { killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';
import { sshdAvailable, startSshServer, type SshServer } from '../helpers/ssh-server.js';

const available = sshdAvailable();
let sshd: SshServer;
let server: ServerProcess;
let bare: string;

beforeAll(async () => {
  if (!available) return;
  await isolateGit();
  const dir = await makeTempDir('kiln-sshd-');
  sshd = await startSshServer(join(dir, 'sshd'));
  bare = join(dir, 'web.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const work = await createRepo();
  await work.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo fetched over ssh }]\n' });
  await git(work.path, 'push', '--quiet', bare, 'HEAD:refs/heads/main');
  server = await startServer();
});
afterAll(async () => {
  await killAll();
  await sshd?.close();
  await removeTempDirs();
});

const sshDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('kiln-ssh-'));

describe.skipIf(!available)('a remote repo over SSH', () => {
  it('is fetched with its deploy key, built, and the key file is gone after the fetch', async () => {
    const before = sshDirs();
    const answer = await server.api('POST', '/api/repos', { name: 'web', url: sshd.url(bare), credentials: { ssh_key: sshd.deployKey } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.credentials).toBe('ssh_key');
    await startAgent(server);
    const run = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
    expect((await runEnded(server, run.body.id)).status).toBe('success');
    // No key folder left behind (another test's, there before, may have gone meanwhile).
    expect(sshDirs().filter((n) => !before.includes(n))).toEqual([]);
    // The host key went to kiln's own known_hosts, not the user's.
    expect(readFileSync(join(server.dataDir, 'known_hosts'), 'utf8')).toMatch(/ ssh-ed25519 AAAA/); // (hosts hashed, as Debian's ssh does)
  });

  it('with a key sshd does not know is refused at registration, in one line', async () => {
    const other = join(await makeTempDir('kiln-key-'), 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const answer = await server.api('POST', '/api/repos', { name: 'nokey', url: sshd.url(bare), credentials: { ssh_key: readFileSync(other, 'utf8') } });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/^cannot read the repository: .*(Permission denied|Could not read from remote repository)/);
  });
});
