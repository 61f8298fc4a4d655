// Who a request was, for the audit log, until the auth layer's `actorOf(principal)` replaces
// this: the admin token by name, any other token by its kind, else anonymous.
import type { Actor } from './record.js';

export function tokenActor(kind: 'admin' | 'agent' | 'user' | null): Actor {
  if (kind === 'admin') return { actor: 'admin token', kind: 'admin-token' };
  if (kind === null) return { actor: 'anonymous', kind: 'anonymous' };
  return { actor: `${kind} token`, kind: 'token' };
}
