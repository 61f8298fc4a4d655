// parseFrame against JSON.parse on long generated frames: the same value, or both refuse.
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../shared/protocol/frame-parse.js';

function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Texts that look like structure to a careless scanner.
const TRICKY = ['plain', '","', '],[', '{"lines":[', '\\', '"', '\u0000', 'é€😀', '\u2028', ' , ', '}}]]', '\\u0022', 'lines'];

function frameText(rnd: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const lines = Array.from({ length: 1500 + Math.floor(rnd() * 3000) }, (_, i) =>
    JSON.stringify({ t: i, stream: 'stdout', text: `${pick(TRICKY)}${i}${pick(TRICKY)}`, step: rnd() < 0.5 ? null : [i, { a: [] }] }));
  const sep = () => pick([',', ', ', ' ,\n', ',\t']);
  let body = lines.join(sep());
  const head = pick(['{"type":"log","jobId":1,', '{ "type" : "log" , ', '{"lines":[],"type":"log",', '{"li\\u006ees":0,', '{"type":"log","x":{"lines":[1]},']);
  const tail = pick(['}', ' }\n', ',"seq":3}', ',"lines":[]}', ',"li\\u006ees":[7]}', '}x', '}}', ',}']);
  // Breakage at a random place in the array: an empty element, a trailing comma, an unclosed string…
  const broken = rnd();
  if (broken < 0.1) body = body.replace(/,/, ',,');
  else if (broken < 0.2) body += ',';
  else if (broken < 0.25) body = body.replace(/"text":"/, '"text":');
  else if (broken < 0.3) body = ` ${body.slice(0, 1000)}]${body.slice(1000)}`;
  return `${head}"lines" : [${body}]${tail}`;
}

const outcome = (parse: (s: string) => unknown, text: string) => {
  try {
    return { value: parse(text) };
  } catch (error) {
    return { error: (error as Error).name };
  }
};

describe('parseFrame', () => {
  it('answers what JSON.parse answers on long frames, valid or broken', () => {
    const rnd = random(42);
    let valid = 0;
    for (let i = 0; i < 300; i++) {
      const text = frameText(rnd);
      expect(text.length).toBeGreaterThan(100_000);
      const expected = outcome(JSON.parse, text);
      expect(outcome(parseFrame, text)).toEqual(expected);
      if ('value' in expected) valid++;
    }
    expect(valid).toBeGreaterThan(50);
    expect(valid).toBeLessThan(290);
  });

  it('parses short frames and other JSON as JSON.parse does', () => {
    for (const text of ['{"type":"hello"}', '[1,2]', '"x"', '3', 'null', '{"lines":[1,2,3]}']) expect(parseFrame(text)).toEqual(JSON.parse(text));
    expect(() => parseFrame('{"lines":[1,2')).toThrow(SyntaxError);
  });
});
