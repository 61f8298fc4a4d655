// The real access layer over a test's store, with the admin and agent tokens registered as the
// server registers them at start (by hash, under the names `admin` and `agent`).
import { accessFor } from '../../server/access/index.js';
import type { Store } from '../../server/store/index.js';

export function testAccess(store: Store, options: { private: boolean; admin?: string; agent?: string; now?: () => number }) {
  if (options.admin) store.tokens.setToken({ kind: 'admin', name: 'admin', secret: options.admin });
  if (options.agent) store.tokens.setToken({ kind: 'agent', name: 'agent', secret: options.agent });
  return accessFor(store, { private: options.private, ...(options.now ? { now: options.now } : {}) });
}
