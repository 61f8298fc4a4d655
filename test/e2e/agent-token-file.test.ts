// End to end: an agent started with --token-file (or KILN_AGENT_TOKEN_FILE) connects, and its
// token is in neither its command line nor its environment, where `ps e` would show it.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../helpers/git.js';
import { AGENT_TOKEN, KILN, eventually, killAll, startServer } from '../helpers/kiln.js';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('the agent token from a file', () => {
  it('connects with --token-file and with KILN_AGENT_TOKEN_FILE, the token out of sight', async () => {
    const server = await startServer();
    const dir = await makeTempDir('kiln-token-file-');
    const tokenFile = join(dir, 'agent.token');
    writeFileSync(tokenFile, `${AGENT_TOKEN}\n`, { mode: 0o600 });
    const { KILN_AGENT_TOKEN: _drop, ...env } = process.env;
    const byFlag = spawn(process.execPath, [KILN, 'agent', '--server', server.url, '--token-file', tokenFile, '--name', 'by-flag', '--work-dir', await makeTempDir('kiln-agent-')], { env, stdio: 'ignore' });
    const byEnv = spawn(process.execPath, [KILN, 'agent', '--server', server.url, '--name', 'by-env', '--work-dir', await makeTempDir('kiln-agent-')], { env: { ...env, KILN_AGENT_TOKEN_FILE: tokenFile }, stdio: 'ignore' });
    try {
      await eventually(async () => {
        const agents = (await server.api('GET', '/api/agents')).body as Array<{ name: string; status: string }>;
        return ['by-flag', 'by-env'].every((name) => agents.some((a) => a.name === name && a.status === 'idle'));
      }, 20_000, 'both agents to connect');
      for (const pid of [byFlag.pid!, byEnv.pid!]) {
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(AGENT_TOKEN);
        expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(AGENT_TOKEN);
      }
    } finally {
      byFlag.kill('SIGTERM');
      byEnv.kill('SIGTERM');
    }
  }, 40_000);
});
