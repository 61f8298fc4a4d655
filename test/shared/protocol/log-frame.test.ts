// The hand-written check of `log` frames against the zod schema that is the contract: on many
// generated frames, valid and broken in one place, both accept and refuse the same ones.
import { describe, expect, it } from 'vitest';
import { fastLogMessage } from '../../../shared/protocol/log-frame.js';
import { agentMessageSchema, decodeAgentMessage } from '../../../shared/protocol/agent-schema.js';

/** mulberry32: a seeded generator, so a failure names the frame that broke it. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Values that sit on or next to a border of some field's rule.
const ODD: unknown[] = [
  0, -0, 1, -1, 0.5, 2.5, 1e21, 1e300, -1e300, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER,
  '', '1', 'stdout', 'stderr', 'system', 'STDOUT', 'log', null, true, false, [], [1], {}, { t: 0 },
  'a'.repeat(15), 'a'.repeat(16), 'a'.repeat(64), 'a'.repeat(65), 'abc$defghijklmnop', 'abcdefghijklmnop\n', '-_-_-_-_-_-_-_-_',
];

function validLine(rnd: () => number): Record<string, unknown> {
  const streams = ['stdout', 'stderr', 'system'];
  return {
    t: rnd() < 0.5 ? Math.floor(rnd() * 2e12) : rnd() * 1e6,
    stream: streams[Math.floor(rnd() * 3)],
    text: rnd() < 0.1 ? '' : `line ${rnd()} \u001b[32mé€\u001b[0m${rnd() < 0.1 ? '\nmore' : ''}`,
    step: rnd() < 0.3 ? null : Math.floor(rnd() * 10),
  };
}

function validFrame(rnd: () => number): Record<string, unknown> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  const token = Array.from({ length: 16 + Math.floor(rnd() * 49) }, () => alphabet[Math.floor(rnd() * 64)]).join('');
  return {
    type: 'log', jobId: 1 + Math.floor(rnd() * 1e6), token, attempt: 1 + Math.floor(rnd() * 5), seq: Math.floor(rnd() * 1000),
    lines: Array.from({ length: Math.floor(rnd() * 8) }, () => validLine(rnd)),
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

/** One change to a valid frame: a field set to an odd value, dropped, or a key added. */
function mutate(rnd: () => number, frame: Record<string, unknown>): unknown {
  const lines = frame.lines as Array<Record<string, unknown>>;
  const target: Record<string, unknown> = lines.length > 0 && rnd() < 0.5 ? pick(rnd, lines) : frame;
  const keys = Object.keys(target);
  const what = rnd();
  if (what < 0.7) target[pick(rnd, keys)] = pick(rnd, ODD);
  else if (what < 0.8) delete target[pick(rnd, keys)];
  else if (what < 0.9) target[pick(rnd, ['extra', '__proto__', 'constructor', 'type'])] = pick(rnd, ODD);
  else return pick(rnd, [null, 1, 'log', [], [frame], { type: 'log' }, { ...frame, lines: lines.map((l) => [l]) }]);
  return frame;
}

/** What decodeAgentMessage answered before the fast path: the schema alone. */
function schemaDecode(data: unknown) {
  const result = agentMessageSchema.safeParse(data);
  return result.success ? { ok: true, message: result.data } : { ok: false };
}

describe('the fast check of log frames', () => {
  it('accepts and refuses exactly the frames the zod schema does, decoding them the same', () => {
    const rnd = random(20261201);
    let accepted = 0;
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = validFrame(rnd);
      const sent = JSON.stringify(i % 4 === 0 ? frame : mutate(rnd, frame));
      const data: unknown = JSON.parse(sent);
      const expected = schemaDecode(JSON.parse(sent));
      const decoded = decodeAgentMessage(sent);
      expect({ i, sent, ok: decoded.ok }).toEqual({ i, sent, ok: expected.ok });
      if (decoded.ok) expect(decoded.message).toEqual(expected.message);
      if (fastLogMessage(data)) {
        fast++;
        expect(expected.ok).toBe(true);
      }
      if (expected.ok) accepted++;
    }
    // Both kinds were tried in numbers, and the fast path took the plain valid frames.
    expect(accepted).toBeGreaterThan(5000);
    expect(accepted).toBeLessThan(19_000);
    expect(fast).toBeGreaterThan(5000);
  });

  it('takes every valid frame without other keys itself, as it was parsed', () => {
    const rnd = random(7);
    for (let i = 0; i < 2000; i++) {
      const data = JSON.parse(JSON.stringify(validFrame(rnd)));
      expect(agentMessageSchema.safeParse(data).success).toBe(true);
      expect(fastLogMessage(data)).toBe(data);
    }
  });

  it('refuses more than 100,000 lines and takes exactly 100,000, as the schema does', () => {
    // (Such frames are over MAX_FRAME_BYTES on the wire; the rule is checked on parsed data.)
    const frame = (n: number) => ({ type: 'log', jobId: 1, token: 'a'.repeat(22), attempt: 1, seq: 0, lines: Array.from({ length: n }, () => ({ t: 1, stream: 'stdout', text: 'x', step: null })) });
    const full = frame(100_000);
    expect(agentMessageSchema.safeParse(full).success).toBe(true);
    expect(fastLogMessage(full)).toBe(full);
    const over = frame(100_001);
    expect(agentMessageSchema.safeParse(over).success).toBe(false);
    expect(fastLogMessage(over)).toBeNull();
  });
});
