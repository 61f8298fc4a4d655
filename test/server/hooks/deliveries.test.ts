// Webhook deliveries from each forge's documented payloads (test/fixtures/webhooks): signatures
// made as each forge documents them, checked by verifyDelivery; bodies read by parseDelivery.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDelivery, type HookEvent } from '../../../server/hooks/payloads.js';
import { verifyDelivery, type ForgeKind, type Headers } from '../../../server/hooks/verify.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/webhooks');
const SECRET = 'It is a secret to everybody';
const BEFORE = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const AFTER = 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327';

function fixture(forge: string, name: string): { headers: Record<string, string>; body: Buffer; json: unknown } {
  const { headers, body } = JSON.parse(readFileSync(join(FIXTURES, forge, `${name}.json`), 'utf8')) as { headers: Record<string, string>; body: unknown };
  return { headers, body: Buffer.from(JSON.stringify(body)), json: body };
}

const hex = (key: string | Buffer, data: Buffer | string) => createHmac('sha256', key).update(data).digest('hex');
/** The signature header each forge documents, over `body` with `secret`. */
function signed(forge: string, headers: Record<string, string>, body: Buffer, secret = SECRET): Headers {
  switch (forge) {
    case 'github': return { ...headers, 'x-hub-signature-256': `sha256=${hex(secret, body)}` };
    case 'gitea': return { ...headers, 'x-gitea-signature': hex(secret, body) };
    case 'bitbucket': return { ...headers, 'x-hub-signature': `sha256=${hex(secret, body)}` };
    case 'gitlab': return { ...headers, 'x-gitlab-token': secret };
    default: throw new Error(forge);
  }
}

const FORGES = ['github', 'gitlab', 'gitea', 'bitbucket'] as const;
const check = (headers: Headers, body: Buffer, secret: string | null = SECRET, insecure = false) => verifyDelivery(headers, body, { secret, insecure });

describe('webhook signatures', () => {
  for (const forge of FORGES) {
    it(`${forge}: every fixture signed with the secret is taken, with its delivery id; a wrong secret, a changed body or no signature is refused`, () => {
      for (const file of readdirSync(join(FIXTURES, forge))) {
        const { headers, body } = fixture(forge, file.replace(/\.json$/, ''));
        const ok = check(signed(forge, headers, body), body);
        expect(ok, file).toMatchObject({ ok: true, forge });
        if (!ok.ok) continue;
        expect(ok.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
        const refused = [check(signed(forge, headers, body, 'a guess'), body), check(headers, body)];
        // GitLab's X-Gitlab-Token is the secret itself, not a signature of the body (its
        // signing token, Standard Webhooks, covers the body: tested below).
        if (forge !== 'gitlab') refused.push(check(signed(forge, headers, body), Buffer.concat([body, Buffer.from(' ')])));
        for (const bad of refused) expect(bad).toMatchObject({ ok: false, status: 401 });
      }
    });
  }

  it('refuses a delivery to a repo without a webhook secret, unless it is set insecure on purpose', () => {
    const { headers, body } = fixture('github', 'push');
    expect(check(headers, body, null)).toEqual({ ok: false, status: 401, error: 'this repo has no webhook secret: set one (or webhook: {insecure: true})' });
    expect(check(headers, body, null, true)).toMatchObject({ ok: true, forge: 'github', event: 'push' });
  });

  it('says in one line when a request is no webhook of any forge it knows', () => {
    expect(check({ 'content-type': 'application/json' }, Buffer.from('{}'))).toEqual({
      ok: false, status: 400, error: 'not a webhook delivery: no event header of GitHub, GitLab, Gitea, Forgejo, Bitbucket or kiln',
    });
  });

  it('tells Gitea from GitHub, though Gitea sends GitHub\'s headers too', () => {
    const { headers, body } = fixture('gitea', 'push');
    expect(headers['x-github-event']).toBe('push');
    expect(check(signed('gitea', headers, body), body)).toMatchObject({ ok: true, forge: 'gitea' });
    // A GitHub-style signature does not pass for a Gitea delivery.
    expect(check({ ...headers, 'x-hub-signature-256': `sha256=${hex(SECRET, body)}` }, body)).toMatchObject({ ok: false, status: 401 });
  });

  it('checks GitLab\'s Standard Webhooks signature (webhook-id.timestamp.body, v1,base64) and its timestamp', () => {
    const { headers, body } = fixture('gitlab', 'push');
    const id = headers['idempotency-key']!;
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const sign = (ts: number, key: string | Buffer) => createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
    const ts = Math.floor(now / 1000);
    const std = (ts: number, signature: string) => ({ ...headers, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature });
    const opts = (secret: string) => ({ secret, insecure: false, nowMs: now });
    expect(verifyDelivery(std(ts, `v1,${sign(ts, SECRET)}`), body, opts(SECRET))).toMatchObject({ ok: true, deliveryId: id });
    // Several signatures (a key being rotated): one that matches is enough.
    expect(verifyDelivery(std(ts, `v1,${sign(ts, 'old')} v1,${sign(ts, SECRET)}`), body, opts(SECRET))).toMatchObject({ ok: true });
    // A whsec_ secret is base64 of the key.
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(verifyDelivery(std(ts, `v1,${sign(ts, key)}`), body, opts(`whsec_${key.toString('base64')}`))).toMatchObject({ ok: true });
    // A replay ten minutes later, a wrong key, a token header that would match: all refused.
    expect(verifyDelivery(std(ts - 600, `v1,${sign(ts - 600, SECRET)}`), body, opts(SECRET))).toMatchObject({ ok: false, status: 401 });
    expect(verifyDelivery(std(ts, `v1,${sign(ts, 'wrong')}`), body, opts(SECRET))).toMatchObject({ ok: false, status: 401 });
    expect(verifyDelivery({ ...std(ts, 'v1,AAAA'), 'x-gitlab-token': SECRET }, body, opts(SECRET))).toMatchObject({ ok: false, status: 401 });
  });
});

const events = (forge: ForgeKind, name: string): HookEvent[] => {
  const { headers, json } = fixture(forge, name);
  const verified = verifyDelivery(headers, Buffer.from('{}'), { secret: null, insecure: true });
  if (!verified.ok) throw new Error(verified.error);
  const parsed = parseDelivery(forge, verified.event, json);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.events;
};

describe('webhook payloads', () => {
  for (const forge of FORGES) {
    it(`${forge}: push, tag push and branch deletion become push, tag and delete`, () => {
      expect(events(forge, 'push')).toEqual([{ kind: 'push', ref: 'refs/heads/main', before: BEFORE, after: AFTER }]);
      expect(events(forge, 'tag-push')).toEqual([{ kind: 'tag', ref: 'refs/tags/v1.2.0', after: AFTER }]);
      expect(events(forge, 'branch-delete')).toEqual([{ kind: 'delete', ref: 'refs/heads/old-feature' }]);
    });

    it(`${forge}: pull requests opened, synchronized and closed carry number, branches, head and whether they come from a fork`, () => {
      const [opened] = events(forge, 'pr-opened');
      expect(opened).toMatchObject({ kind: 'pull_request', action: 'opened', sourceBranch: 'feature', targetBranch: 'main', fromFork: false });
      expect(AFTER.startsWith((opened as { headSha: string }).headSha)).toBe(true);
      expect(events(forge, 'pr-synchronize')).toMatchObject([{ action: 'synchronize' }]);
      expect(events(forge, 'pr-closed')).toMatchObject([{ action: 'closed' }]);
      expect(events(forge, 'pr-opened-fork')).toMatchObject([{ action: 'opened', fromFork: true }]);
    });
  }

  it('says where each forge keeps a pull request\'s head: its pull-request ref, or (Bitbucket) the source branch, of a fork if it comes from one', () => {
    const heads = (forge: ForgeKind, name: string) => events(forge, name).map((e) => e.kind === 'pull_request' && { headRef: e.headRef, headRepo: e.headRepo });
    expect(heads('github', 'pr-opened')).toEqual([{ headRef: 'refs/pull/42/head', headRepo: null }]);
    expect(heads('github', 'pr-opened-fork')).toEqual([{ headRef: 'refs/pull/42/head', headRepo: null }]);
    expect(heads('gitea', 'pr-opened')).toEqual([{ headRef: 'refs/pull/5/head', headRepo: null }]);
    expect(heads('gitlab', 'pr-opened')).toEqual([{ headRef: 'refs/merge-requests/7/head', headRepo: null }]);
    expect(heads('bitbucket', 'pr-opened')).toEqual([{ headRef: 'refs/heads/feature', headRepo: null }]);
    expect(heads('bitbucket', 'pr-opened-fork')).toEqual([{ headRef: 'refs/heads/feature', headRepo: { target: 'team/web', source: 'sam/web' } }]);
  });

  it('reads the pull request numbers each forge uses (GitHub and Gitea number, GitLab iid, Bitbucket id)', () => {
    expect(events('github', 'pr-reopened')).toMatchObject([{ action: 'reopened', number: 42 }]);
    expect(events('gitlab', 'pr-reopened')).toMatchObject([{ action: 'reopened', number: 7 }]);
    expect(events('gitea', 'pr-reopened')).toMatchObject([{ action: 'reopened', number: 5 }]);
    expect(events('bitbucket', 'pr-declined')).toMatchObject([{ action: 'closed', number: 11 }]);
  });

  it('starts nothing for a merge request edited without new commits, a ping, or an event kiln does not build', () => {
    expect(parseDelivery('gitlab', 'Merge Request Hook', fixture('gitlab', 'pr-edited').json)).toEqual({ ok: true, events: [], ignored: 'merge request update without new commits' });
    expect(parseDelivery('github', 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).toEqual({ ok: true, events: [], ignored: 'ping' });
    expect(parseDelivery('github', 'issues', { action: 'opened' })).toEqual({ ok: true, events: [], ignored: 'issues events' });
  });

  it("ignores a pull-request action it does not know, even one named like an object's own property", () => {
    const opened = fixture('github', 'pr-opened').json as Record<string, unknown>;
    for (const action of ['labeled', 'constructor', 'toString', '__proto__']) {
      expect(parseDelivery('github', 'pull_request', { ...opened, action })).toEqual({ ok: true, events: [], ignored: `pull_request ${action}` });
    }
    expect(parseDelivery('bitbucket', 'constructor', fixture('bitbucket', 'pr-declined').json)).toMatchObject({ ok: true, events: [] });
  });

  it('refuses, in one line, a body that is not the event its headers claim', () => {
    expect(parseDelivery('github', 'push', fixture('github', 'pr-opened').json)).toEqual({ ok: false, error: 'not a push event: ref: Invalid input: expected string, received undefined' });
    expect(parseDelivery('gitlab', 'Push Hook', { object_kind: 'push', ref: 'refs/heads/main', before: 'x', after: AFTER })).toEqual({ ok: false, error: 'not a Push Hook event: before: not a commit id' });
    expect(parseDelivery('bitbucket', 'repo:push', [])).toMatchObject({ ok: false });
  });

  it('reads kiln\'s own format, documented in docs/forges.md', () => {
    expect(parseDelivery('kiln', 'push', { ref: 'refs/heads/main', after: AFTER })).toEqual({ ok: true, events: [{ kind: 'push', ref: 'refs/heads/main', before: null, after: AFTER }], ignored: null });
    expect(parseDelivery('kiln', 'pull_request', { action: 'opened', number: 3, source_branch: 'f', target_branch: 'main', head_sha: AFTER })).toMatchObject({
      ok: true, events: [{ kind: 'pull_request', number: 3, fromFork: false }],
    });
    expect(parseDelivery('kiln', 'push', { ref: 'refs/heads/main', after: AFTER, extra: 1 })).toMatchObject({ ok: false, error: expect.stringContaining('extra') });
    // A pull request's head: the source branch, or the ref it names (which a fork's must).
    const pr = { action: 'opened', number: 3, source_branch: 'f', target_branch: 'main', head_sha: AFTER };
    expect(parseDelivery('kiln', 'pull_request', pr)).toMatchObject({ ok: true, events: [{ headRef: 'refs/heads/f' }] });
    expect(parseDelivery('kiln', 'pull_request', { ...pr, fork: true, head_ref: 'refs/pull/3/head' })).toMatchObject({ ok: true, events: [{ headRef: 'refs/pull/3/head', fromFork: true }] });
    expect(parseDelivery('kiln', 'pull_request', { ...pr, fork: true })).toEqual({
      ok: false, error: "a pull request from a fork needs head_ref: the ref of this repo's remote that holds its head (e.g. refs/pull/3/head)",
    });
    expect(parseDelivery('kiln', 'pull_request', { ...pr, head_ref: 'main:refs/heads/x' })).toMatchObject({ ok: false, error: 'not a pull_request event: head_ref: expected a full ref such as refs/pull/3/head' });
  });
});
