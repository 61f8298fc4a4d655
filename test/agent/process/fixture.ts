// Shared set-up for the agent process tests: a real repo, its mirror served by a peer, and agents.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createMirrors } from '../../../server/git/mirror.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';
import { killAgents, startAgent, type AgentProcess } from './agent-process.js';
import { startPeer, type Peer } from './peer.js';

export const TOKEN = 'agent-token-5d1e';

export interface Fixture {
  /** A commit of repo `web` holding README.md ("hello from the repo"). */
  sha: string;
  peer: Peer;
  /** Repo name → bare mirror, for tests that start peers of their own. */
  mirrors: Record<string, string>;
  /** Starts `kiln agent --server <peer> --token TOKEN --work-dir <fresh> …args`. */
  agent(args?: string[], options?: { token?: string; workDir?: string; env?: Record<string, string>; server?: string }): Promise<AgentProcess & { workDir: string }>;
}

/** Call at the top of a test file; the returned object is filled in beforeAll. */
export function useAgentFixture(): Fixture {
  const fixture = { sha: '' } as Fixture;
  beforeAll(async () => {
    await isolateGit();
    const repo = await createRepo();
    fixture.sha = await repo.commit({ 'README.md': 'hello from the repo\n' });
    const mirror = join(await makeTempDir(), 'web.git');
    await createMirrors().fetchMirror({ path: repo.path }, mirror);
    fixture.mirrors = { web: mirror };
    fixture.peer = await startPeer({ token: TOKEN, mirrors: fixture.mirrors });
    fixture.agent = async (args = [], options = {}) => {
      const workDir = options.workDir ?? join(await makeTempDir('kiln-agent-'), 'work');
      const server = options.server ?? fixture.peer.url;
      const agent = startAgent(['--server', server, '--token', options.token ?? TOKEN, '--work-dir', workDir, ...args], options.env);
      return Object.assign(agent, { workDir });
    };
  });
  afterEach(async () => {
    await killAgents();
    fixture.peer.refuseWith = null;
  });
  afterAll(async () => {
    await fixture.peer?.close();
    await removeTempDirs();
  });
  return fixture;
}
