// Issuing a user's API token, the one way the API (POST /api/tokens) and the dashboard's Tokens
// page both make one: the repos it names exist, a token made with a repo-limited token is as
// limited, its life is a duration (default 90 days) or never. The secret is answered once.
import { randomBytes } from 'node:crypto';
import { badInput, KilnError, notFound } from '../../shared/errors.js';
import { parseDuration } from '../../shared/pipeline/duration.js';
import type { Store, TokenScope, User, UserToken } from '../store/index.js';
import { USER_TOKEN_PREFIX } from './authenticate.js';
import type { Principal } from './principal.js';

export const DEFAULT_TOKEN_LIFE = '90d';

/** A user token: recognisable by its prefix (secret scanners look for it), 256 random bits. */
export const newUserToken = () => `${USER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export interface TokenRequest {
  name: string;
  scope: TokenScope;
  /** Absent or null: every repo the owner may reach. */
  repos?: string[] | null;
  /** A duration (`30d`); null: never expires; absent: 90 days. */
  expires_in?: string | null;
}

/** Makes `owner` a token as `by` asked (its own token, if it used one, bounds the new one's repos). */
export function issueUserToken(store: Store, owner: User, by: Principal, request: TokenRequest, nowMs = Date.now()): { token: UserToken; secret: string } {
  const repos = request.repos ?? null;
  for (const repo of repos ?? []) if (!store.repos.getRepoByName(repo)) throw notFound(`no repo named ${repo}`);
  // A token made with a token reaches no further than the one it was made with.
  if (by.token?.repos && (repos === null || repos.some((r) => !by.token!.repos!.includes(r)))) {
    throw new KilnError('forbidden', `this token is limited to ${by.token.repos.join(', ')}: a token made with it must be too`);
  }
  const life = request.expires_in === undefined ? DEFAULT_TOKEN_LIFE : request.expires_in;
  const lifeMs = life === null ? null : parseDuration(life);
  if (lifeMs !== null && lifeMs < 60_000) throw badInput('expires_in: at least 1m');
  const secret = newUserToken();
  const token = store.users.addToken({ userId: owner.id, name: request.name, secret, scope: request.scope, repos, expiresAtMs: lifeMs === null ? null : nowMs + lifeMs });
  return { token, secret };
}
