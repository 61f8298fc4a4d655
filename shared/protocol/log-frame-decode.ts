// `log` frames read straight from their JSON text, without JSON.parse. Why: V8's JSON.parse
// interns every string value of up to 10 characters, so a log of short distinct lines (numbers,
// "ok") grows the isolate's string table, off the heap, by tens of MiB; and it allocates the
// objects of a text of 100,000+ characters straight into the old generation. Here each line is
// an ordinary young object and its text a slice of the frame. Anything not plainly the frame's
// shape (whitespace, unknown keys, odd numbers) answers null, and JSON.parse decides as before.
import { fastLogMessage, type LogMessage } from './log-frame.js';

const MAX_LINES = 100_000;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;
const CONTROL = /[\u0000-\u001f]/; // never raw in a JSON string; outside one only as whitespace
const NUMBER = /^(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const STREAMS = ['stdout', 'stderr', 'system'] as const;

/**
 * The frame as JSON.parse and fastLogMessage together would take it, or null: not a log frame,
 * or one this reader leaves to them (they decide, and explain what is wrong).
 */
export function decodeLogFrame(text: string): LogMessage | null {
  const r = new Reader(text);
  const frame: Record<string, unknown> = {};
  if (!r.take(0x7b /* { */)) return null;
  do {
    const key = r.key(['type', 'jobId', 'token', 'attempt', 'seq', 'lines']);
    if (key === undefined || key in frame) return null;
    const value = key === 'lines' ? readLines(r) : key === 'type' || key === 'token' ? r.string() : r.number();
    if (value === undefined) return null;
    frame[key] = value;
  } while (r.take(COMMA));
  if (!r.take(0x7d /* } */) || r.i !== text.length || CONTROL.test(text)) return null;
  return fastLogMessage(frame);
}

/** What a backslash and then `c` stand for in a JSON string, for every escape but `\u`. */
function unescaped(c: number): string | undefined {
  switch (c) {
    case 0x22: return '"';
    case 0x5c: return '\\';
    case 0x2f: return '/';
    case 0x62: return '\b';
    case 0x66: return '\f';
    case 0x6e: return '\n';
    case 0x72: return '\r';
    case 0x74: return '\t';
    default: return undefined;
  }
}

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  return lower >= 0x61 /* a */ && lower <= 0x66 /* f */ ? lower - 0x61 + 10 : -1;
}

interface Line { t: number; stream: string; step: number | null; text: string }

function readLines(r: Reader): Line[] | undefined {
  if (!r.take(0x5b /* [ */)) return undefined;
  const lines: Line[] = [];
  if (r.take(0x5d /* ] */)) return lines;
  do {
    if (lines.length === MAX_LINES) return undefined; // the schema says why
    const line = readLine(r);
    if (line === undefined) return undefined;
    lines.push(line);
  } while (r.take(COMMA));
  return r.take(0x5d /* ] */) ? lines : undefined;
}

const LINE_KEYS = ['t', 'stream', 'step', 'text'];

function readLine(r: Reader): Line | undefined {
  if (!r.take(0x7b /* { */)) return undefined;
  let t: number | undefined;
  let stream: string | undefined;
  let step: number | null | undefined;
  let text: string | undefined;
  do {
    const key = r.key(LINE_KEYS);
    if (key === 't' && t === undefined) t = r.number();
    else if (key === 'stream' && stream === undefined) stream = r.known(STREAMS) ?? r.string();
    else if (key === 'step' && step === undefined) step = r.null() ? null : r.number();
    else if (key === 'text' && text === undefined) text = r.string();
    else return undefined; // unknown or repeated key
  } while (r.take(COMMA));
  if (!r.take(0x7d /* } */) || t === undefined || stream === undefined || step === undefined || text === undefined) return undefined;
  return { t, stream, step, text };
}

/** A cursor over the frame's text; each read moves past what it read, or answers undefined. */
class Reader {
  i = 0;
  private escape: number; // the first backslash at or after some earlier string's start

  constructor(private readonly s: string) {
    this.escape = this.indexOrEnd('\\', 0);
  }

  take(char: number): boolean {
    if (this.s.charCodeAt(this.i) !== char) return false;
    this.i++;
    return true;
  }

  /** `"name":` for one of `names`, without making a string. */
  key(names: readonly string[]): string | undefined {
    const { s, i } = this;
    if (s.charCodeAt(i) !== QUOTE) return undefined;
    for (const name of names) {
      const end = i + 1 + name.length;
      if (s.charCodeAt(end) === QUOTE && s.charCodeAt(end + 1) === 0x3a /* : */ && s.startsWith(name, i + 1)) {
        this.i = end + 2;
        return name;
      }
    }
    return undefined;
  }

  /** `"value"` for one of `values`, answered with the constant itself. */
  known<T extends string>(values: readonly T[]): T | undefined {
    const { s, i } = this;
    for (const value of values) {
      const end = i + 1 + value.length;
      if (s.charCodeAt(i) === QUOTE && s.charCodeAt(end) === QUOTE && s.startsWith(value, i + 1)) {
        this.i = end + 1;
        return value;
      }
    }
    return undefined;
  }

  null(): boolean {
    if (!this.s.startsWith('null', this.i)) return false;
    this.i += 4;
    return true;
  }

  string(): string | undefined {
    const { s } = this;
    if (s.charCodeAt(this.i) !== QUOTE) return undefined;
    const start = this.i + 1;
    let end = s.indexOf('"', start);
    if (end < 0) return undefined;
    if (this.escape < start) this.escape = this.indexOrEnd('\\', start);
    if (this.escape > end) {
      this.i = end + 1;
      return s.slice(start, end);
    }
    // Escapes: the text is put together from the pieces between them.
    let value = '';
    let from = start;
    let at = this.escape;
    for (; at < end; at = this.indexOrEnd('\\', from)) {
      value += s.slice(from, at);
      const c = s.charCodeAt(at + 1);
      if (c === 0x75 /* u */) {
        let code = 0;
        for (let k = at + 2; k < at + 6; k++) {
          const digit = hexDigit(s.charCodeAt(k));
          if (digit < 0) return undefined;
          code = code * 16 + digit;
        }
        value += String.fromCharCode(code);
        from = at + 6;
      } else {
        const char = unescaped(c);
        if (char === undefined) return undefined; // JSON.parse refuses it
        value += char;
        from = at + 2;
      }
      if (from > end) end = s.indexOf('"', from); // that quote was escaped: the string goes on
      if (end < 0) return undefined;
    }
    this.escape = at;
    this.i = end + 1;
    return value + s.slice(from, end);
  }

  /** A number that is not negative (every number of a log frame), as JSON.parse reads it. */
  number(): number | undefined {
    const { s } = this;
    const start = this.i;
    let i = start;
    let n = 0;
    let c = s.charCodeAt(i);
    while (c >= ZERO && c <= NINE) {
      n = n * 10 + (c - ZERO);
      c = s.charCodeAt(++i);
    }
    if (i === start || (s.charCodeAt(start) === ZERO && i > start + 1)) return undefined;
    if (c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */ || i - start > 15) {
      while (i < s.length && '0123456789.eE+-'.includes(s[i]!)) i++;
      const token = s.slice(start, i);
      if (!NUMBER.test(token)) return undefined;
      n = Number(token);
    }
    this.i = i;
    return n;
  }

  private indexOrEnd(char: string, from: number): number {
    const at = this.s.indexOf(char, from);
    return at < 0 ? this.s.length : at;
  }
}
