// How the agent talks to the server's `/git/<repo>.git`: the token's header, and one line for each way a fetch fails.
import { KilnError, notFound } from '../../shared/errors.js';
import { GitError, lastLine } from './run-git.js';

// What git says when the server (or a local cache) lacks, or will not give, the object asked for by sha.
export const NO_SUCH_OBJECT = /not our ref|unadvertised object|couldn't find remote ref|no such remote ref|upload-pack: not our ref/i;

/**
 * The header goes through GIT_CONFIG_* (not `-c` on the command line, where `ps` shows it),
 * scoped to the server's URL so a redirect elsewhere never receives it.
 */
export function serverAuthEnv(url: string, token: string, inherited: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const n = Number(inherited.GIT_CONFIG_COUNT ?? 0) || 0;
  return {
    GIT_CONFIG_COUNT: String(n + 3),
    [`GIT_CONFIG_KEY_${n}`]: `http.${url}.extraHeader`,
    [`GIT_CONFIG_VALUE_${n}`]: `Authorization: Bearer ${token}`,
    [`GIT_CONFIG_KEY_${n + 1}`]: 'http.followRedirects',
    [`GIT_CONFIG_VALUE_${n + 1}`]: 'false',
    [`GIT_CONFIG_KEY_${n + 2}`]: 'credential.helper',
    [`GIT_CONFIG_VALUE_${n + 2}`]: '',
  };
}

/** One line saying why a fetch from the server failed, without the token or the environment. */
export function explainFetchError(error: unknown, serverUrl: string, repo: string): KilnError {
  if (!(error instanceof GitError)) return new KilnError('internal', `fetch of repo ${repo} failed`, { cause: error });
  const s = error.stderr;
  const status = /returned error: (\d{3})/.exec(s)?.[1];
  if (status === '401' || /Authentication failed|could not read (Username|Password)/i.test(s)) {
    return new KilnError('unauthorized', `401 from server ${serverUrl}: the agent token was refused`);
  }
  if (status === '404' || /repository '[^']*' not found/.test(s)) return notFound(`404 from server ${serverUrl}: it has no repo ${repo}`);
  if (status === '403') return new KilnError('forbidden', `403 from server ${serverUrl} for repo ${repo}`);
  if (status) return new KilnError('internal', `${status} from server ${serverUrl} while fetching repo ${repo}`);
  return new KilnError('internal', `cannot fetch repo ${repo} from ${serverUrl}: ${lastLine(s) || error.message}`);
}

/** The error for a commit the server does not have. */
export const commitNotFound = (sha: string, repo: string) => notFound(`commit ${sha} not found on the server (repo ${repo})`);
