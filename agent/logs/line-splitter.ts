// Turns one stream's output buffers into whole, masked lines, however the buffers were cut.
import { StringDecoder } from 'node:string_decoder';
import type { Masker } from './mask.js';

export interface LineSplitterOptions {
  /** Longer lines are cut into pieces of this many characters (the last piece may be shorter). */
  maxLineChars: number;
  masker: Masker;
  now(): number;
  /** `t` is when the line's first byte arrived. */
  onLine(text: string, t: number): void;
  /**
   * Sees each whole line before it is masked; a line it returns false for is dropped (a
   * `::add-mask::` command). Not asked for the pieces of an overlong line.
   */
  keep?(line: string): boolean;
}

export interface LineSplitter {
  /** Adds output; emits every line it completes. Multi-byte characters may be cut across pushes. */
  push(data: Buffer | string): void;
  /** Emits the unfinished last line, if any. The splitter may be used again afterwards. */
  end(): void;
}

/**
 * Holds a partial line until its newline (or `end`). Masking is done on whole lines, so a secret
 * cut across buffers is still masked; when an overlong line is cut, the last `longest - 1`
 * characters are held back so that a secret cannot straddle the cut either.
 */
export function createLineSplitter(o: LineSplitterOptions): LineSplitter {
  const decoder = new StringDecoder('utf8');
  // Read at each use: `::add-mask::` can make the longest form longer mid-job.
  const holdChars = () => Math.max(0, o.masker.longest - 1);
  let pending = '';
  let since = 0;
  let continued = false; // `pending` continues a line whose head was emitted (an overlong one)
  let dropping = false;  // the rest of an overlong `keep`-refused line is dropped until its newline

  // The end of a line: mask it, then cut it if it is too long. Only a line's start is a command.
  function emit(line: string, t: number) {
    const wasContinued = continued;
    const wasDropping = dropping;
    continued = false;
    dropping = false;
    if (wasDropping || (!wasContinued && o.keep && !o.keep(line))) return;
    let rest = o.masker.mask(line);
    while (rest.length > o.maxLineChars) {
      const cut = cutIndex(rest, o.maxLineChars);
      o.onLine(rest.slice(0, cut), t);
      rest = rest.slice(cut);
    }
    o.onLine(rest, t);
  }

  // An unfinished line that grew too long: emit its head, keep enough tail to mask later. A
  // command that long (`::add-mask::` of a huge value) is taken as far as it goes and dropped.
  function cutOverlong() {
    while (pending.length >= o.maxLineChars + holdChars()) {
      if (!continued && o.keep && !o.keep(pending)) {
        dropping = true;
        pending = '';
        return;
      }
      pending = o.masker.mask(pending);
      if (pending.length < o.maxLineChars + holdChars()) return;
      const cut = cutIndex(pending, o.maxLineChars);
      o.onLine(pending.slice(0, cut), since);
      pending = pending.slice(cut);
      continued = true;
      since = o.now();
    }
  }

  return {
    push(data) {
      const text = typeof data === 'string' ? data : decoder.write(data);
      if (text.length === 0) return;
      const now = o.now();
      if (pending.length === 0) since = now;
      pending += text;
      let start = 0;
      let newline: number;
      while ((newline = pending.indexOf('\n', start)) !== -1) {
        emit(pending.slice(start, newline), start === 0 ? since : now);
        start = newline + 1;
      }
      if (start > 0) {
        pending = pending.slice(start);
        since = now;
      }
      if (dropping) pending = '';
      else cutOverlong();
    },
    end() {
      pending += decoder.end();
      if (pending.length > 0 || dropping) emit(pending, since);
      continued = false;
      pending = '';
    },
  };
}

/** Where to cut `text` at about `max` characters without splitting a surrogate pair. */
function cutIndex(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff && max > 1 ? max - 1 : max;
}
