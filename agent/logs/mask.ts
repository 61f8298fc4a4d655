// Secret masking: every occurrence of a secret value in a log line becomes `***`.

export const MASK = '***';

export interface Masker {
  /** `text` with every secret replaced by `***`; the longest secret wins where two overlap. */
  mask(text: string): string;
  /** Length of the longest secret piece: how much of an unfinished line must be held back. */
  readonly longest: number;
}

/**
 * Masks `secrets` (empty values ignored). A multi-line secret (a key file) is masked line by
 * line, since logs are masked one line at a time.
 */
export function createMasker(secrets: readonly string[]): Masker {
  const pieces = [...new Set(secrets.flatMap((s) => s.split(/\r?\n/)))]
    .filter((piece) => piece.length > 0)
    .sort((a, b) => b.length - a.length);
  if (pieces.length === 0) return { mask: (text) => text, longest: 0 };
  const pattern = new RegExp(pieces.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return { mask: (text) => text.replace(pattern, MASK), longest: pieces[0]!.length };
}
