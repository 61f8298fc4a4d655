// The admin and agent tokens: from the environment, or made at first start and kept in the
// data folder (mode 0600). Only their hashes go into the database; they are never logged.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './store/index.js';

export interface Tokens {
  admin: string;
  agent: string;
}

export function ensureTokens(dataDir: string, fromEnv: { admin: string | null; agent: string | null }): Tokens {
  return { admin: fromEnv.admin ?? fileToken(join(dataDir, 'admin.token')), agent: fromEnv.agent ?? fileToken(join(dataDir, 'agent.token')) };
}

function fileToken(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Stores the tokens' hashes under fixed names, replacing older ones (a changed env token wins). */
export function registerTokens(store: Store, tokens: Tokens): void {
  store.tokens.setToken({ kind: 'admin', name: 'admin', secret: tokens.admin });
  store.tokens.setToken({ kind: 'agent', name: 'agent', secret: tokens.agent });
}

export function bearer(header: string | null | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value : null;
}
