// Credentials for a remote, handed to git the way that leaves them in no URL, no argument list
// (the process list) and no log: an HTTPS token as an `Authorization` header through git's
// environment config (GIT_CONFIG_COUNT/KEY/VALUE, git ≥ 2.31), an SSH deploy key as a file of
// mode 0600 in a private temp folder, named by GIT_SSH_COMMAND and removed once git is done.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RepoCredentials } from '../store/types.js';

export interface RemoteAuthOptions {
  /**
   * The known_hosts file SSH remotes' host keys are kept in (first seen, then checked), kiln's
   * own rather than the server user's ~/.ssh/known_hosts (default: that one).
   */
  knownHostsFile?: string;
}

/** Runs `work` with the environment git needs to authenticate with `credentials` (none: {}). */
export async function withRemoteAuth<T>(credentials: RepoCredentials | null | undefined, work: (env: Record<string, string>) => Promise<T>, options: RemoteAuthOptions = {}): Promise<T> {
  if (!credentials) return work({});
  if (credentials.kind === 'token') {
    // Basic with the token as the password is what GitHub, GitLab, Gitea and Bitbucket all
    // take over HTTPS; the user name matters only to some (Bitbucket: x-token-auth).
    const basic = Buffer.from(`${credentials.username ?? 'x-access-token'}:${credentials.token}`).toString('base64');
    return work({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      // No credential helper asks for (or stores) anything else.
      GIT_CONFIG_KEY_1: 'credential.helper',
      GIT_CONFIG_VALUE_1: '',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ssh-'));
  try {
    const key = join(dir, 'deploy_key');
    await writeFile(key, credentials.sshKey.endsWith('\n') ? credentials.sshKey : `${credentials.sshKey}\n`, { mode: 0o600 });
    return await work({
      GIT_SSH_COMMAND: `ssh -i '${key}' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new${options.knownHostsFile ? ` -o UserKnownHostsFile='${options.knownHostsFile}'` : ''}`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
