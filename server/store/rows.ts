// Helpers that turn SQLite values into domain values: ms → ISO strings, JSON text → objects.

/** ISO-8601 UTC for a time in ms, or null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** ISO-8601 UTC for a time that is always set. */
export function isoAlways(ms: number): string {
  return new Date(ms).toISOString();
}

export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function parseJsonOrNull<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** SQLite stores booleans as 0/1. */
export function bool(value: number): boolean {
  return value !== 0;
}
