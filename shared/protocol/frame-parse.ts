// JSON.parse for agent frames, in pieces when a frame is long. Why: a log frame of 64 KiB of
// short lines is ~600 KB of JSON, and parsed whole its ~9,000 line objects come out of one
// long parse. Parsing the `lines` array ~48 KB at a time measured lower and steadier server
// memory while taking a 1,000,000-line log (same frames over a real WebSocket to a store,
// 3 runs each: +88..91 MiB over the start, against +86..117 MiB parsed whole).

const PIECE_CHARS = 48 * 1024;

/** Same answer as JSON.parse(text), and the same SyntaxError for text that is not JSON. */
export function parseFrame(text: string): unknown {
  const span = text.length > PIECE_CHARS ? linesSpan(text) : null;
  if (!span) return JSON.parse(text);
  try {
    return parsePieces(text, span);
  } catch {
    return JSON.parse(text); // not plainly JSON after all: the whole text decides, and throws
  }
}

function parsePieces(text: string, span: Span): unknown {
  const head: unknown = JSON.parse(`${text.slice(0, span.open)}[]${text.slice(span.close + 1)}`);
  if (typeof head !== 'object' || head === null || !Array.isArray((head as { lines?: unknown }).lines)) return JSON.parse(text);
  const lines: unknown[] = [];
  let start = span.open + 1;
  let count = 0;
  for (let i = 0; i <= span.commas.length; i++) {
    const end = i < span.commas.length ? span.commas[i]! : span.close;
    count++;
    if (end - start < PIECE_CHARS && i < span.commas.length) continue;
    const piece: unknown = JSON.parse(`[${text.slice(start, end)}]`);
    // An empty element ("[1,,2]", "[ ]") would parse to fewer items: let JSON.parse decide.
    if (!Array.isArray(piece) || piece.length !== count) return JSON.parse(text);
    for (const item of piece) lines.push(item);
    start = end + 1;
    count = 0;
  }
  (head as { lines: unknown[] }).lines = lines;
  return head;
}

interface Span { open: number; close: number; commas: number[] }

/**
 * Where the top-level object's `lines` array opens and closes, and its elements' commas; null
 * when the text is not plainly that shape (a key with escapes, two `lines` keys, unbalanced).
 */
function linesSpan(text: string): Span | null {
  let depth = 0;
  let span: Span | null = null;
  let inLines = false;
  let afterKey = false;             // at depth 1: a key and its colon were just read
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const startAt = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (i >= text.length) return null;
      if (depth === 1 && !afterKey) {
        if (escaped) return null;
        let j = i + 1;
        while (j < text.length && isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 0x3a /* : */) return null;
        const key = text.slice(startAt + 1, i);
        i = j;
        afterKey = true;
        if (key === 'lines') {
          if (span) return null;
          let k = j + 1;
          while (k < text.length && isSpace(text.charCodeAt(k))) k++;
          if (text.charCodeAt(k) !== 0x5b /* [ */) return null;
          span = { open: k, close: -1, commas: [] };
        }
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth === 0 && c !== 0x7b) return null;
      depth++;
      if (depth === 2 && span && i === span.open) inLines = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      if (depth < 0) return null;
      if (depth === 1 && inLines) {
        inLines = false;
        span!.close = i;
      }
    } else if (c === 0x2c /* , */) {
      if (depth === 2 && inLines) span!.commas.push(i);
      if (depth === 1) afterKey = false;
    }
  }
  return depth === 0 && span && span.close > span.open ? span : null;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
