// A real SSH git server on loopback: OpenSSH's sshd on 127.0.0.1 with a config, host key and
// authorized key of its own (nothing of the machine's is used), which lets one deploy key in
// and runs only git commands for it (git-shell). Needs /usr/sbin/sshd (Debian openssh-server):
// suites skip without it, and fail instead when KILN_TEST_REQUIRE_SSHD=1 (as in CI).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from './kiln.js';

export const SSHD = '/usr/sbin/sshd';

/** Whether sshd is here; throws when KILN_TEST_REQUIRE_SSHD=1 and it is not. */
export function sshdAvailable(): boolean {
  if (existsSync(SSHD)) return true;
  if (process.env.KILN_TEST_REQUIRE_SSHD === '1') throw new Error(`KILN_TEST_REQUIRE_SSHD=1 but ${SSHD} is missing (apt-get install openssh-server)`);
  return false;
}

export interface SshServer {
  port: number;
  /** `ssh://<user>@127.0.0.1:<port><path>` */
  url(path: string): string;
  /** The private deploy key sshd lets in (OpenSSH format). */
  deployKey: string;
  close(): Promise<void>;
}

export async function startSshServer(dir: string): Promise<SshServer> {
  mkdirSync(dir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation folder
  const key = (name: string) => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    return join(dir, name);
  };
  const hostKey = key('host_key');
  const deploy = key('deploy_key');
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${readFileSync(`${deploy}.pub`, 'utf8')}`, { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authorized}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password',
    'UsePAM no', 'StrictModes no', `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR',
  ].join('\n'));
  const proc: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  proc.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  // Listening once a connection is taken.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${errors}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  return {
    port,
    url: (path) => `ssh://${user}@127.0.0.1:${port}${path}`,
    deployKey: readFileSync(deploy, 'utf8'),
    close: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}
