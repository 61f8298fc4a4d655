// The hand-written check of `log` frames against the zod schema that is the contract: on many
// generated frames, valid and broken in one place, both accept and refuse the same ones. And
// the reader of log frames' text against JSON.parse: it answers as JSON.parse would, or null.
import { describe, expect, it } from 'vitest';
import { fastLogMessage } from '../../../shared/protocol/log-frame.js';
import { decodeLogFrame } from '../../../shared/protocol/log-frame-decode.js';
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

/** What JSON.parse and the fast check make of a frame's text: the message, or null. */
function parsedLog(text: string): unknown {
  try {
    return fastLogMessage(JSON.parse(text));
  } catch {
    return null;
  }
}

const TEXTS = [
  '', '1', '999999', '1234567890', 'ok', 'say "hi"', 'a\\', '\\', '"', 'C:\\dir\\', '\u001b[31mred\u001b[0m', 'tab\there', 'cr\r',
  'é€ 漢字', '😀 emoji', '\ud800 lone', 'end \udfff', '\u2028 \u2029', 'x'.repeat(70_000), 'null', '{"t":1}', '\\"',
];

/** One character changed, dropped or added somewhere in the frame's text. */
function garble(rnd: () => number, text: string): string {
  const at = Math.floor(rnd() * text.length);
  const char = pick(rnd, ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '1', '-', 'e', '.', 'n', '\n', '\u0001', 'x', 'u']);
  const what = rnd();
  if (what < 0.33) return text.slice(0, at) + text.slice(at + 1);
  if (what < 0.66) return text.slice(0, at) + char + text.slice(at);
  return text.slice(0, at) + char + text.slice(at + 1);
}

describe('the reader of log frames', () => {
  it('reads every compact valid frame itself, as JSON.parse does', () => {
    const rnd = random(42);
    for (let i = 0; i < 3000; i++) {
      const frame = validFrame(rnd);
      for (const line of frame.lines as Array<Record<string, unknown>>) if (rnd() < 0.3) line.text = pick(rnd, TEXTS);
      const text = JSON.stringify(frame);
      const read = decodeLogFrame(text);
      expect({ i, text, read: read !== null }).toEqual({ i, text, read: true });
      expect(read).toEqual(JSON.parse(text));
    }
  });

  it('reads lines whose keys come in any order, and frames whose keys do', () => {
    const line = { text: 'a "b" \\ c', step: null, stream: 'stderr', t: 1.5e3 };
    const text = JSON.stringify({ lines: [line, { ...line, step: 3 }], seq: 4, token: 'a'.repeat(22), attempt: 2, jobId: 7, type: 'log' });
    expect(decodeLogFrame(text)).toEqual(JSON.parse(text));
  });

  it('never takes what JSON.parse or the check would refuse, and agrees where both take a frame', () => {
    const rnd = random(99);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = validFrame(rnd);
      for (const line of frame.lines as Array<Record<string, unknown>>) if (rnd() < 0.3) line.text = pick(rnd, TEXTS);
      const what = rnd();
      let text = JSON.stringify(what < 0.3 ? mutate(rnd, frame) : frame);
      if (what >= 0.3 && what < 0.4) text = JSON.stringify(frame, null, rnd() < 0.5 ? 1 : '\t');
      else if (what >= 0.4) for (let k = 1 + Math.floor(rnd() * 2); k > 0; k--) text = garble(rnd, text);
      const decoded = decodeLogFrame(text);
      if (decoded === null) continue;
      read++;
      expect({ i, text, decoded }).toEqual({ i, text, decoded: parsedLog(text) });
    }
    expect(read).toBeGreaterThan(2000); // the garbling left many frames valid, and those were read
  });

  it('unescapes every escape JSON has and refuses the ones it has not, as JSON.parse does', () => {
    const frameWith = (text: string) => `{"type":"log","jobId":1,"token":"${'a'.repeat(22)}","attempt":1,"seq":0,"lines":[{"t":1,"stream":"stdout","step":null,"text":"${text}"},{"t":2,"stream":"stdout","step":null,"text":"after"}]}`;
    const good = ['\\u00E9\\u00e9', '\\uD83D\\uDE00', '\\/\\b\\f\\n\\r\\t', '\\"', '\\\\', 'a\\\\\\"b', '\\u0022\\u005c', 'x\\u0000y'];
    for (const text of good) expect({ text, read: decodeLogFrame(frameWith(text)) }).toEqual({ text, read: JSON.parse(frameWith(text)) });
    const bad = ['\\u00g1', '\\x41', '\\u12', '\\u12"', '\\', '\\\\\\', '\\a', '\\U0041'];
    for (const text of bad) {
      expect({ text, read: decodeLogFrame(frameWith(text)) }).toEqual({ text, read: null });
      expect(() => JSON.parse(frameWith(text))).toThrow();
    }
  });

  it('leaves frames of more than 100,000 lines, and any other message, to JSON.parse and the schema', () => {
    const line = { t: 1, stream: 'stdout', step: null, text: 'x' };
    const frame = (n: number) => JSON.stringify({ type: 'log', jobId: 1, token: 'a'.repeat(22), attempt: 1, seq: 0, lines: Array.from({ length: n }, () => line) });
    expect(decodeLogFrame(frame(100_000))?.lines).toHaveLength(100_000);
    expect(decodeLogFrame(frame(100_001))).toBeNull();
    expect(decodeLogFrame(JSON.stringify({ type: 'done', jobId: 1 }))).toBeNull();
    expect(decodeLogFrame('{"type":"log","type":"log"}')).toBeNull();
  });
});
