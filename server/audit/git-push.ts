// Pushes to the server's git mirrors (`/git/<repo>`) are changes too, though kiln serves them
// read-only: a push starts with `GET info/refs?service=git-receive-pack` (or POSTs to
// git-receive-pack), which the backend refuses; each is recorded as `git.push` on the repo.
import type { MiddlewareHandler } from 'hono';
import type { RecordOptions } from './record.js';
import { outcomeOf } from './record.js';

const PUSH = /^\/git\/([^/]+?)(?:\.git)?\/(?:info\/refs|git-receive-pack)$/;

export function recordPushes({ audit, actorOf, addressOf, now = Date.now }: RecordOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const match = PUSH.exec(c.req.path);
    const pushing = match && (c.req.path.endsWith('/git-receive-pack') || c.req.query('service') === 'git-receive-pack');
    if (!pushing) return;
    const who = actorOf(c);
    audit.append({
      at: now(), actor: who.actor, actorKind: who.kind, address: addressOf(c), action: 'git.push', target: `repo/${match[1]}`,
      outcome: outcomeOf(c.res.status), status: c.res.status, detail: c.res.status >= 400 ? 'kiln serves repositories read-only' : '',
    });
  };
}
