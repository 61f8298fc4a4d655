// The secret key file and AES-256-GCM sealing: real files in a temp folder.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSecretBox } from '../../server/secret-box.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-key-'));
  dirs.push(dir);
  return dir;
};

describe('the secret key', () => {
  it('is made at the first start with mode 0600, and the same key is read back at the next', () => {
    const file = join(temp(), 'secret.key');
    const first = loadSecretBox({ file, mayCreate: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const sealed = first.seal('s3cret', 'secret:1:TOKEN');
    expect(sealed).toMatch(/^k1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('s3cret');
    expect(loadSecretBox({ file, mayCreate: true }).open(sealed, 'secret:1:TOKEN')).toBe('s3cret');
  });

  it('seals the same value differently each time, and opens it only for its context and key', () => {
    const dir = temp();
    const box = loadSecretBox({ file: join(dir, 'a.key'), mayCreate: true });
    const other = loadSecretBox({ file: join(dir, 'b.key'), mayCreate: true });
    const sealed = box.seal('v', 'secret:1:A');
    expect(box.seal('v', 'secret:1:A')).not.toBe(sealed);
    expect(() => box.open(sealed, 'secret:1:B')).toThrow(/does not open with the key in .*a\.key/);
    expect(() => other.open(sealed, 'secret:1:A')).toThrow(/does not open/);
    expect(() => box.open(`${sealed.slice(0, -4)}AAAA`, 'secret:1:A')).toThrow(/does not open/);
    expect(() => box.open('plain text', 'secret:1:A')).toThrow(/not a sealed value/);
  });

  it('that is missing, when values were sealed with it, stops with one line saying what to do', () => {
    const file = join(temp(), 'secret.key');
    expect(() => loadSecretBox({ file, mayCreate: false })).toThrow(`secret key ${file} is missing, and the database holds values sealed with it: restore that file (or point KILN_SECRET_KEY_FILE at it)`);
  });

  it('that holds no key is refused, whatever it holds', () => {
    const dir = temp();
    for (const text of ['', 'short', Buffer.alloc(16).toString('base64'), `${Buffer.alloc(32).toString('base64')}!`]) {
      const file = join(dir, 'bad.key');
      writeFileSync(file, text);
      expect(() => loadSecretBox({ file, mayCreate: true, describe: 'KILN_SECRET_KEY_FILE' })).toThrow(/^secret key KILN_SECRET_KEY_FILE does not hold a key: expected 32 random bytes in base64/);
    }
  });
});
