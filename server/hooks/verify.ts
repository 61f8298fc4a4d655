// Who sent a webhook delivery, and whether it is signed with the repo's webhook secret. Each
// forge has its own headers and its own scheme; every comparison is constant-time.
//
//   forge      event header           delivery id                          signature
//   GitHub     X-GitHub-Event         X-GitHub-Delivery                    X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>
//   GitLab     X-Gitlab-Event         Idempotency-Key (webhook-id,         X-Gitlab-Token: <the secret itself>, or Standard
//                                     X-Gitlab-Event-UUID)                 Webhooks: webhook-signature: v1,<base64 HMAC-SHA256(id.ts.body)>
//   Gitea      X-Gitea-Event or       X-Gitea-Delivery                     X-Gitea-Signature: <hex HMAC-SHA256(body)>
//   Forgejo    X-Forgejo-Event        X-Forgejo-Delivery                   X-Forgejo-Signature
//   Bitbucket  X-Event-Key            X-Request-UUID                       X-Hub-Signature: sha256=<hex HMAC-SHA256(body)>
//   kiln       X-Kiln-Event           X-Kiln-Delivery                      X-Kiln-Signature: sha256=<hex HMAC-SHA256(body)>
//
// Gitea and Forgejo also send GitHub's headers (for tools that know only GitHub), so they are
// recognised first.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type ForgeKind = 'github' | 'gitlab' | 'gitea' | 'bitbucket' | 'kiln';

/** Header names in lower case, as node:http gives them. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

export interface VerifyOptions {
  /** The repo's webhook secret; null: none configured. */
  secret: string | null;
  /** `webhook: {insecure: true}`: a repo that takes unsigned deliveries on purpose. */
  insecure: boolean;
  /** For Standard Webhooks' timestamp check (default Date.now). */
  nowMs?: number;
}

export type Verified =
  | { ok: true; forge: ForgeKind; event: string; deliveryId: string | null }
  | { ok: false; status: 400 | 401; error: string };

/** Standard Webhooks: a timestamp further than this from now is a replay (their default, 5 min). */
const TOLERANCE_S = 5 * 60;

export function verifyDelivery(headers: Headers, body: Buffer, options: VerifyOptions): Verified {
  const h = (name: string): string | null => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  };
  const forge = detect(h);
  if (!forge) return { ok: false, status: 400, error: 'not a webhook delivery: no event header of GitHub, GitLab, Gitea, Forgejo, Bitbucket or kiln' };
  const { kind, event } = forge;
  const deliveryId = deliveryOf(kind, h);
  if (options.secret === null) {
    if (options.insecure) return { ok: true, forge: kind, event, deliveryId };
    return { ok: false, status: 401, error: 'this repo has no webhook secret: set one (or webhook: {insecure: true})' };
  }
  const secret = options.secret;
  const signed = (() => {
    switch (kind) {
      case 'github':
        return prefixedHex(h('x-hub-signature-256'), 'sha256=', secret, body);
      case 'bitbucket':
        return prefixedHex(h('x-hub-signature'), 'sha256=', secret, body);
      case 'kiln':
        return prefixedHex(h('x-kiln-signature'), 'sha256=', secret, body);
      case 'gitea':
        return prefixedHex(h('x-gitea-signature') ?? h('x-forgejo-signature'), '', secret, body);
      case 'gitlab': {
        const signature = h('webhook-signature');
        if (signature !== null) return standardWebhook(signature, h('webhook-id'), h('webhook-timestamp'), secret, body, options.nowMs ?? Date.now());
        const token = h('x-gitlab-token');
        return token !== null && sameBytes(Buffer.from(token, 'utf8'), Buffer.from(secret, 'utf8'));
      }
    }
  })();
  if (!signed) return { ok: false, status: 401, error: `the ${label(kind)} signature does not match this repo's webhook secret` };
  return { ok: true, forge: kind, event, deliveryId };
}

/** The forge a delivery's headers name, signed or not (for counting refused ones); null: none. */
export function forgeOf(headers: Headers): ForgeKind | null {
  return detect((name) => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  })?.kind ?? null;
}

function detect(h: (name: string) => string | null): { kind: ForgeKind; event: string } | null {
  const pick = (kind: ForgeKind, event: string | null) => (event ? { kind, event } : null);
  return pick('kiln', h('x-kiln-event'))
    ?? pick('gitea', h('x-gitea-event') ?? h('x-forgejo-event'))
    ?? pick('github', h('x-github-event'))
    ?? pick('gitlab', h('x-gitlab-event'))
    ?? pick('bitbucket', h('x-event-key'));
}

function deliveryOf(kind: ForgeKind, h: (name: string) => string | null): string | null {
  switch (kind) {
    case 'github': return h('x-github-delivery');
    case 'gitea': return h('x-gitea-delivery') ?? h('x-forgejo-delivery');
    // Idempotency-Key (GitLab 17.4+) is the same on every retry of one event; webhook-id equals it.
    case 'gitlab': return h('idempotency-key') ?? h('webhook-id') ?? h('x-gitlab-event-uuid');
    case 'bitbucket': return h('x-request-uuid');
    case 'kiln': return h('x-kiln-delivery');
  }
}

function label(kind: ForgeKind): string {
  return { github: 'GitHub', gitlab: 'GitLab', gitea: 'Gitea', bitbucket: 'Bitbucket', kiln: 'kiln' }[kind];
}

const hmac = (key: Buffer | string, data: Buffer | string): Buffer => createHmac('sha256', key).update(data).digest();

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<prefix><hex HMAC-SHA256 of the body>`; case-insensitive hex. */
function prefixedHex(header: string | null, prefix: string, secret: string, body: Buffer): boolean {
  if (header === null || !header.startsWith(prefix)) return false;
  const hex = header.slice(prefix.length).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  return sameBytes(Buffer.from(hex, 'hex'), hmac(secret, body));
}

/**
 * Standard Webhooks (standardwebhooks.com), which GitLab's signing token follows: the HMAC of
 * `id.timestamp.body` in base64, one or more `v1,<signature>` separated by spaces. A `whsec_`
 * secret is base64 of the key; any other is the key's own bytes.
 */
function standardWebhook(header: string, id: string | null, timestamp: string | null, secret: string, body: Buffer, nowMs: number): boolean {
  if (id === null || timestamp === null || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_S) return false;
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
  const expected = hmac(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]));
  return header.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    return version === 'v1' && value !== undefined && sameBytes(Buffer.from(value, 'base64'), expected);
  });
}
