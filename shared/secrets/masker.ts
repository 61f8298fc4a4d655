// Secret masking: every occurrence of a secret, in any of its forms, becomes `***`.
import { secretForms } from './forms.js';

export const MASK = '***';

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
    if (forms.size !== before) rebuild();
  }

  for (const value of values) add(value);

  return {
    mask(text) {
      if (pattern === null || text.length === 0) return text;
      let out = '';
      let copied = 0;   // text before this index is in `out` (or masked)
      let from = -1;    // the masked span being built, [from, to); -1: none yet
      let to = -1;
      const re = pattern;
      re.lastIndex = 0;
      let match: RegExpExecArray | null;
      // Why the search goes on one character after a match's start, not after its end: a
      // form that starts inside a match and ends beyond it (overlapping secrets) is found too.
      while ((match = re.exec(text)) !== null) {
        const start = match.index;
        const stop = start + match[0].length;
        re.lastIndex = start + 1;
        if (from >= 0 && start <= to) {
          to = Math.max(to, stop);
          continue;
        }
        if (from >= 0) out += text.slice(copied, from) + MASK;
        copied = to < 0 ? 0 : to;
        from = start;
        to = stop;
      }
      if (from < 0) return text;
      return `${out}${text.slice(copied, from)}${MASK}${text.slice(to)}`;
    },
    add,
    get longest() {
      return longest;
    },
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
