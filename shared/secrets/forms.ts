// The forms in which a secret value can reach a log: the value, its lines, and its encodings.

/** A stored secret value has at least this many characters (a `::add-mask::` value may be shorter). */
export const SECRET_MIN_CHARS = 6;

/** Why `value` cannot be a secret, or null when it can. */
export function secretValueProblem(value: string): string | null {
  if ([...value].length < SECRET_MIN_CHARS) {
    return `a secret value has at least ${SECRET_MIN_CHARS} characters (a shorter one would mask ordinary text in every log)`;
  }
  return null;
}

/**
 * Every text to mask for `value`: the value; each of its lines (trimmed, of at least
 * SECRET_MIN_CHARS characters: a `}` alone would mask every brace); the stable part of its
 * base64 and base64url when it starts at byte 0, 1 or 2 of a longer stream (and the whole
 * base64 of the value alone, padding included); encodeURIComponent (and with `!'()*` encoded
 * too, as RFC 3986 and curl do), form-encoded (`+` for a space); JSON-escaped (and with
 * `\uXXXX` for non-ASCII, as Python writes it); single-quoted for a shell (`'\''` for a
 * quote, as `set -x` traces it). The value itself is always a form (a secret stored before the minimum still is masked);
 * other forms shorter than SECRET_MIN_CHARS are left out.
 */
export function secretForms(value: string): string[] {
  if (value.length === 0) return [];
  const forms = new Set<string>([value]);
  const lines = value.split(/\r?\n|\r/);
  if (lines.length > 1) for (const line of lines) forms.add(line.trim());
  for (const form of base64Forms(value)) forms.add(form);
  const uri = encodeURIComponent(value);
  forms.add(uri);
  forms.add(uri.replace(/%20/g, '+'));
  forms.add(uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)); // RFC 3986, as curl --data-urlencode
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  if (value.includes("'")) forms.add(value.replace(/'/g, "'\\''"));
  return [value, ...[...forms].filter((form) => form !== value && form.length >= SECRET_MIN_CHARS)];
}

/**
 * The base64 and base64url of `value` alone (padding included), and the stable characters of
 * its base64 and base64url at each byte offset of a longer stream (base64Inner).
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([bytes.toString('base64'), bytes.toString('base64url')]);
  for (const offset of [0, 1, 2]) {
    const inner = base64Inner(bytes, offset);
    forms.add(inner);
    forms.add(inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((form) => form.length >= SECRET_MIN_CHARS);
}

/**
 * The base64 characters that depend on `bytes` alone when they start `offset` bytes (0–2)
 * into a base64 stream, whatever comes before and after: the characters of
 * base64(prefix + bytes) from the first one without prefix bits to the last one without
 * bits of what follows.
 */
export function base64Inner(bytes: Buffer, offset: number): string {
  const stream = Buffer.concat([Buffer.alloc(offset), bytes]);
  const end = Math.floor((stream.length * 8) / 6);
  const start = Math.ceil((offset * 8) / 6);
  return stream.toString('base64').slice(start, end);
}
