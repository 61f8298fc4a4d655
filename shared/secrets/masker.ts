// Secret masking: every occurrence of a secret, in any of its forms, becomes `***`.
import { base64Forms, secretForms } from './forms.js';

export const MASK = '***';

/** A line that may be a piece of wrapped base64 (`base64` wraps at 76 columns, PEM at 64). */
const BASE64_LINE = /^[A-Za-z0-9+/_-]{4,}={0,2}$/;
/** The shortest piece of a wrapped base64 form masked at a line's start or end. */
const WRAPPED_PIECE_CHARS = 4;

/**
 * A job's masker. The agent masks each line before it leaves the process; the server masks
 * again, with the job's secrets, before it stores a chunk.
 */
export interface Masker {
  /**
   * `text` with every form of every secret replaced: where matches overlap or touch (two
   * secrets, one a prefix of another), their union becomes one `***`.
   */
  mask(text: string): string;
  /** Adds a value (e.g. from `::add-mask::`); masked from the next `mask` call on. */
  add(value: string): void;
  /** Length of the longest form: an unfinished line must hold back `longest - 1` characters. */
  readonly longest: number;
}

/** A masker for `values` (empty values ignored); see secretForms for what is masked. */
export function createMasker(values: readonly string[]): Masker {
  const forms = new Set<string>();
  const encoded = new Set<string>(); // the base64 forms, to find them wrapped across lines
  let pattern: RegExp | null = null;
  let longest = 0;

  function rebuild() {
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    longest = sorted[0]?.length ?? 0;
    // Longer forms first: at a position, the longest form starting there is the one found.
    pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escape).join('|'), 'g');
  }

  function add(value: string) {
    const before = forms.size;
    for (const form of secretForms(value)) forms.add(form);
    for (const form of base64Forms(value)) encoded.add(form);
    if (forms.size !== before) rebuild();
  }

  for (const value of values) add(value);

  return {
    mask(text) {
      if (pattern === null || text.length === 0) return text;
      const spans: Array<[number, number]> = [];
      const re = pattern;
      re.lastIndex = 0;
      let match: RegExpExecArray | null;
      // Why the search goes on one character after a match's start, not after its end: a
      // form that starts inside a match and ends beyond it (overlapping secrets) is found too.
      while ((match = re.exec(text)) !== null) {
        spans.push([match.index, match.index + match[0].length]);
        re.lastIndex = match.index + 1;
      }
      const body = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (BASE64_LINE.test(body)) wrappedSpans(body, encoded, spans);
      return spans.length === 0 ? text : render(text, spans);
    },
    add,
    get longest() {
      return longest;
    },
  };
}

/**
 * Pieces of a base64 form cut by line wrapping: a line that lies inside a form, a line's end
 * that begins a form, a line's start that ends one. Pieces under WRAPPED_PIECE_CHARS stay.
 */
function wrappedSpans(line: string, forms: ReadonlySet<string>, spans: Array<[number, number]>): void {
  for (const form of forms) {
    if (form.includes(line)) {
      spans.push([0, line.length]);
      return;
    }
    const longest = Math.min(line.length, form.length) - 1;
    for (let k = longest; k >= WRAPPED_PIECE_CHARS; k--) {
      if (line.endsWith(form.slice(0, k))) {
        spans.push([line.length - k, line.length]);
        break;
      }
    }
    for (let k = longest; k >= WRAPPED_PIECE_CHARS; k--) {
      if (line.startsWith(form.slice(form.length - k))) {
        spans.push([0, k]);
        break;
      }
    }
  }
}

/** `text` with each union of overlapping or touching spans replaced by one MASK. */
function render(text: string, spans: Array<[number, number]>): string {
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let copied = 0;
  let [from, to] = spans[0]!;
  for (const [start, stop] of spans) {
    if (start <= to) {
      to = Math.max(to, stop);
      continue;
    }
    out += text.slice(copied, from) + MASK;
    copied = to;
    from = start;
    to = stop;
  }
  return `${out}${text.slice(copied, from)}${MASK}${text.slice(to)}`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
