// Pending sign-ins: one use, bound to the browser's cookie, expiring, bounded.
import { describe, expect, it } from 'vitest';
import { createPendingSignIns } from '../../../server/oidc/pending.js';

const entry = (state: string, binding = 'b-1') => ({ state, nonce: `n-${state}`, codeVerifier: `v-${state}`, binding, next: '/' });

describe('pending sign-ins', () => {
  it('give a sign-in back once, to the browser that started it', () => {
    const pending = createPendingSignIns({ now: () => 0, ttlMs: 1000, max: 10 });
    pending.add(entry('s-1'));
    expect(pending.take('s-1', 'b-2')).toEqual({ ok: false, reason: 'other_browser' });
    expect(pending.take('s-1', undefined)).toEqual({ ok: false, reason: 'other_browser' });
    expect(pending.take('s-1', 'b-1')).toMatchObject({ ok: true, pending: { nonce: 'n-s-1', codeVerifier: 'v-s-1' } });
    expect(pending.take('s-1', 'b-1')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('expire after ttlMs', () => {
    let t = 0;
    const pending = createPendingSignIns({ now: () => t, ttlMs: 1000, max: 10 });
    pending.add(entry('s-1'));
    t = 1000;
    expect(pending.take('s-1', 'b-1')).toEqual({ ok: false, reason: 'expired' });
    expect(pending.size).toBe(0);
  });

  it('keep at most max, dropping the oldest', () => {
    const pending = createPendingSignIns({ now: () => 0, ttlMs: 1000, max: 2 });
    for (const s of ['s-1', 's-2', 's-3']) pending.add(entry(s));
    expect(pending.size).toBe(2);
    expect(pending.take('s-1', 'b-1')).toEqual({ ok: false, reason: 'unknown' });
    expect(pending.take('s-3', 'b-1').ok).toBe(true);
  });
});
