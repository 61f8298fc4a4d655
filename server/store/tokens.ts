// API tokens: only their SHA-256 is stored; a presented token is checked by hash.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { ApiToken, Clock, TokenKind } from './types.js';

export interface NewToken {
  kind: TokenKind;
  name: string;             // unique; e.g. `admin`, `agent`, or a user's token name
  secret: string;           // the token itself; never stored
}

/** Tokens by unique name. Secrets never leave the caller: the store keeps and compares hashes. */
export interface TokenStore {
  /** Creates or replaces the token of that name (e.g. the admin token from env at each start). */
  setToken(token: NewToken): ApiToken;
  /** The token this secret is, or null. */
  verifyToken(secret: string): ApiToken | null;
  listTokens(): ApiToken[];
  deleteToken(name: string): boolean;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const MAX_VERIFIED = 256;

interface TokenRow { id: number; kind: TokenKind; name: string; hash: string; created_at: number }

const toToken = (r: TokenRow): ApiToken => ({ id: r.id, kind: r.kind, name: r.name, createdAt: isoAlways(r.created_at) });

export function createTokenStore(db: Sqlite, clock: Clock): TokenStore {
  const stmt = {
    upsert: db.prepare<[TokenKind, string, string, number], TokenRow>(
      `INSERT INTO api_tokens (kind, name, hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, hash = excluded.hash, created_at = excluded.created_at
       RETURNING *`,
    ),
    byHash: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE hash = ?'),
    all: db.prepare<[], TokenRow>('SELECT * FROM api_tokens ORDER BY name'),
    remove: db.prepare<[string]>('DELETE FROM api_tokens WHERE name = ?'),
  };

  // Why remembered: every API request and agent connection presents a token, and a lookup
  // costs more than the request's own work. Only tokens that verified are kept (an unknown one
  // cannot fill memory), and any change to the table forgets them all: the server is the only
  // writer of its database.
  const verified = new Map<string, ApiToken>();
  const forget = <T>(result: T): T => {
    verified.clear();
    return result;
  };

  return {
    setToken: ({ kind, name, secret }) => forget(toToken(stmt.upsert.get(kind, name, hashToken(secret), clock.now())!)),
    verifyToken(secret) {
      // Why a lookup by hash is safe: timing can only reveal how close a stored *hash* is to
      // sha256(guess), and a hash does not authenticate; the final compare is constant-time anyway.
      const hash = hashToken(secret);
      const known = verified.get(hash);
      if (known) return known;
      const row = stmt.byHash.get(hash);
      if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
      if (verified.size >= MAX_VERIFIED) verified.clear();
      const token = toToken(row);
      verified.set(hash, token);
      return token;
    },
    listTokens: () => stmt.all.all().map(toToken),
    deleteToken: (name) => forget(stmt.remove.run(name).changes === 1),
  };
}
