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

  return {
    setToken: ({ kind, name, secret }) => toToken(stmt.upsert.get(kind, name, hashToken(secret), clock.now())!),
    verifyToken(secret) {
      // Why a lookup by hash is safe: timing can only reveal how close a stored *hash* is to
      // sha256(guess), and a hash does not authenticate; the final compare is constant-time anyway.
      const hash = hashToken(secret);
      const row = stmt.byHash.get(hash);
      if (!row) return null;
      return timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex')) ? toToken(row) : null;
    },
    listTokens: () => stmt.all.all().map(toToken),
    deleteToken: (name) => stmt.remove.run(name).changes === 1,
  };
}
