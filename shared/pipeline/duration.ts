// Durations in pipeline.yml: `90s`, `5m`, `1h30m`, `7d`.

export const DURATION_PATTERN = /^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/;

/** The longest `timeout` a job or step may have (365 days). */
export const MAX_TIMEOUT_MS = 365 * 86_400_000;
export const MAX_TIMEOUT_TEXT = '365d';

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** Milliseconds in a duration, or null when the text is not one. */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([dhms])/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}

export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}
