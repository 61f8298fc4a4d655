// kiln.yml's `server.smtp` and `repos[].notify`: what they take, where the password comes from, and what they refuse.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../../server/config.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs();

async function load(yaml: string, env: Record<string, string> = {}) {
  const dir = await tempDir();
  await writeFile(join(dir, 'kiln.yml'), yaml);
  return loadServerConfig({ env, cwd: dir, cpus: 2 });
}

describe('server.smtp', () => {
  it('is null when absent; port 587 with STARTTLS by default, 465 means implicit TLS', async () => {
    expect((await load('server: {}\n')).smtp).toBeNull();
    expect((await load('server:\n  smtp: { host: mail.example, from: kiln@example.com }\n')).smtp)
      .toEqual({ host: 'mail.example', port: 587, secure: false, user: null, password: null, from: 'kiln@example.com' });
    expect((await load('server:\n  smtp: { host: mail.example, port: 465, from: kiln@example.com }\n')).smtp).toMatchObject({ port: 465, secure: true });
  });

  it('reads the password from password_env, and stops the start when that variable is not set', async () => {
    const yaml = 'server:\n  smtp: { host: mail.example, user: kiln, password_env: SMTP_PASSWORD, from: kiln@example.com }\n';
    expect((await load(yaml, { SMTP_PASSWORD: 'pw' })).smtp).toMatchObject({ user: 'kiln', password: 'pw' });
    await expect(load(yaml)).rejects.toThrow(/server\.smtp\.password_env: SMTP_PASSWORD is not set/);
  });

  it('refuses both password and password_env, a missing sender and unknown keys, naming the key', async () => {
    await expect(load('server:\n  smtp: { host: m, password: a, password_env: B, from: k@e.com }\n')).rejects.toThrow(/password or password_env, not both/);
    await expect(load('server:\n  smtp: { host: m }\n')).rejects.toThrow(/server\.smtp\.from/);
    await expect(load('server:\n  smtp: { host: m, from: k@e.com, tls: true }\n')).rejects.toThrow(/tls/);
  });
});

describe('repos[].notify', () => {
  it('plans the repo\'s rules (default events failure and fixed) and refuses an entry with two targets', async () => {
    const config = await load('repos:\n  - name: web\n    path: ./web\n    notify:\n      - { email: ops@example.com }\n      - { on: success, slack: "https://chat.example/hook" }\n');
    expect(config.repos?.[0]?.settings.notify).toEqual([
      { on: ['failure', 'fixed'], target: { kind: 'email', to: ['ops@example.com'] } },
      { on: ['success'], target: { kind: 'slack', url: 'https://chat.example/hook' } },
    ]);
    await expect(load('repos:\n  - name: web\n    path: ./web\n    notify: [{ email: a@b.c, webhook: "https://x.example" }]\n')).rejects.toThrow(/one target, not webhook and email/);
  });
});
