// The masker: every form of a secret (value, lines, base64 in each alignment, base64url,
// URL and JSON encodings) becomes `***`, overlapping and nested secrets included.
import { describe, expect, it } from 'vitest';
import { base64Inner, SECRET_MIN_CHARS, secretForms, secretValueProblem } from '../../../shared/secrets/forms.js';
import { createMasker, MASK } from '../../../shared/secrets/masker.js';

const SECRET = 'p@ss w0rd/+?&="é😀\\';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

describe('secretForms', () => {
  it('holds the value, the base64 and base64url of the value alone, and its URL and JSON encodings', () => {
    const forms = secretForms(SECRET);
    expect(forms[0]).toBe(SECRET);
    for (const form of [
      b64(SECRET), b64url(SECRET), encodeURIComponent(SECRET), encodeURIComponent(SECRET).replace(/%20/g, '+'),
      new URLSearchParams({ v: SECRET }).toString().slice(2), JSON.stringify(SECRET).slice(1, -1),
      'p@ss w0rd/+?&=\\"\\u00e9\\ud83d\\ude00\\\\', // JSON with non-ASCII escaped (Python's json.dumps)
    ]) expect(forms).toContain(form);
  });

  it('holds the stable base64 of the value at each of the three byte offsets of a stream', () => {
    const bytes = Buffer.from(SECRET);
    for (const offset of [0, 1, 2]) {
      const inner = base64Inner(bytes, offset);
      expect(secretForms(SECRET)).toContain(inner);
      expect(secretForms(SECRET)).toContain(inner.replace(/\+/g, '-').replace(/\//g, '_'));
      // Whatever bytes come before and after, the stream's base64 holds these characters.
      for (const before of ['', 'x', 'xy', 'xyz', 'wxyz']) {
        if (before.length % 3 !== offset % 3) continue;
        for (const after of ['', '\n', 'ab', 'abc']) expect(b64(`${before}${SECRET}${after}`)).toContain(inner);
      }
    }
  });

  it('holds the strict RFC 3986 encoding too (curl --data-urlencode encodes !\'()*)', () => {
    expect(secretForms("it's (a) secret!*")).toContain('it%27s%20%28a%29%20secret%21%2A');
  });

  it('holds a value with quotes as a shell traces it (`set -x`)', () => {
    const m = createMasker(["it's-a-secret"]);
    expect(m.mask("+ echo 'it'\\''s-a-secret'")).toBe("+ echo '***'");
  });

  it('holds each line of a multi-line value, trimmed, when it is long enough to be told apart', () => {
    const forms = secretForms('-----BEGIN KEY-----\r\n  MIIEvQIBADANBg\n}\n-----END KEY-----');
    expect(forms).toEqual(expect.arrayContaining(['-----BEGIN KEY-----', 'MIIEvQIBADANBg', '-----END KEY-----']));
    expect(forms).not.toContain('}');
  });

  it('refuses values shorter than 6 characters, counting characters, not bytes', () => {
    expect(SECRET_MIN_CHARS).toBe(6);
    expect(secretValueProblem('12345')).toMatch(/at least 6 characters/);
    expect(secretValueProblem('😀😀😀😀😀')).toMatch(/at least 6 characters/);
    expect(secretValueProblem('123456')).toBeNull();
    expect(secretValueProblem('éééééé')).toBeNull();
  });
});

describe('createMasker', () => {
  it('masks every form of a secret wherever it appears in a line', () => {
    const m = createMasker([SECRET]);
    for (const form of secretForms(SECRET)) {
      const out = m.mask(`before ${form} after ${form}`);
      expect(out).toBe(`before ${MASK} after ${MASK}`);
    }
  });

  it('masks the base64 of a secret inside longer base64, at every offset, with any text after it', () => {
    const m = createMasker([SECRET]);
    for (let before = 0; before < 7; before++) {
      for (const after of ['', '\n', 'z', 'tail bytes']) {
        const stream = `${'P'.repeat(before)}${SECRET}${after}`;
        for (const encoded of [b64(stream), b64url(stream)]) {
          const out = m.mask(encoded);
          expect(out).toContain(MASK);
          for (const offset of [0, 1, 2]) expect(out).not.toContain(base64Inner(Buffer.from(SECRET), offset));
          // What is left of the secret's base64 is a character or two at each end: at most
          // the bits it shares with its neighbours.
          expect(out.length).toBeLessThan(encoded.length - 20);
        }
      }
    }
  });

  it('masks base64 wrapped over lines (`base64` at 76 columns, PEM at 64), at every offset and every wrap position', () => {
    const value = 'a-long-secret-value-that-spans-more-than-one-line-of-base64-output: 0123456789abcdefghijklmnopqrstuvwxyz';
    const m = createMasker([value]);
    for (const width of [76, 64]) {
      for (let before = 0; before < 80; before++) {
        const stream = b64(`${'P'.repeat(before)}${value}\n`);
        const lines = stream.match(new RegExp(`.{1,${width}}`, 'g'))!;
        const masked = lines.map((line) => m.mask(line));
        const joined = masked.join('');
        const inner = base64Inner(Buffer.from(value), before % 3);
        for (let at = 0; at + 8 <= inner.length; at++) expect(joined, `${width}/${before}`).not.toContain(inner.slice(at, at + 8));
        // Lines before the value's are left as they were.
        const untouched = Math.floor(((before * 4) / 3 - 4) / width);
        expect(masked.slice(0, Math.max(0, untouched))).toEqual(lines.slice(0, Math.max(0, untouched)));
      }
    }
  });

  it('leaves ordinary base64 lines and single words alone', () => {
    const m = createMasker(['some-secret-value']);
    for (const line of ['Done', 'PASS', 'aGVsbG8gd29ybGQ=', 'sha512-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/==', 'node_modules']) expect(m.mask(line)).toBe(line);
  });

  it('masks unicode values and their encodings', () => {
    const value = 'пароль-密码-🔑';
    const m = createMasker([value]);
    expect(m.mask(`x ${value} ${encodeURIComponent(value)} ${b64(value)} ${JSON.stringify({ v: value })}`)).toBe(`x ${MASK} ${MASK} ${MASK} {"v":"${MASK}"}`);
  });

  it('masks overlapping secrets as one span, and a secret that is a prefix of another whole', () => {
    const m = createMasker(['abcdef-1', 'ef-1234', 'token-', 'token-long-value']);
    expect(m.mask('x abcdef-1234 y')).toBe(`x ${MASK} y`);
    expect(m.mask('x token-long-value y token-z')).toBe(`x ${MASK} y ${MASK}z`);
    expect(m.mask('token-token-')).toBe(MASK);
  });

  it('leaves text without secrets as it is, and masks nothing without secrets', () => {
    expect(createMasker([SECRET]).mask('plain text, no secret here')).toBe('plain text, no secret here');
    expect(createMasker([]).mask('anything')).toBe('anything');
    expect(createMasker(['']).longest).toBe(0);
  });

  it('masks a value added later, and grows `longest` with it', () => {
    const m = createMasker(['short1']);
    const before = m.longest;
    m.add('a-much-longer-runtime-value');
    expect(m.longest).toBeGreaterThan(before);
    expect(m.mask('v=a-much-longer-runtime-value')).toBe(`v=${MASK}`);
    expect(m.mask(b64('a-much-longer-runtime-value'))).toBe(MASK);
  });

  it('masks a secret that holds regular expression characters literally', () => {
    const m = createMasker(['a.b*c+d?(e)[f]{g}|h^$\\/']);
    expect(m.mask('a.b*c+d?(e)[f]{g}|h^$\\/')).toBe(MASK);
    expect(m.mask('aXb*c+d?(e)[f]{g}|h^$\\/')).toBe('aXb*c+d?(e)[f]{g}|h^$\\/');
  });
});
