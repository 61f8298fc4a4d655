// The repos the server registers by itself at start, written to the store without waiting on git.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../../server/config.js';
import { registerStartupRepos } from '../../../server/startup-repos.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs } from '../../helpers/git.js';
import { createTriggerParts } from './fixture.js';

beforeAll(isolateGit);
afterAll(removeTempDirs);

const logger = pino({ level: 'silent' });
const config = (fields: Partial<ServerConfig>) => ({ repos: null, ...fields }) as ServerConfig;

describe('start-up repos', () => {
  it('registers the work tree the server was started in (from a subfolder) when it has a pipeline.yml, and mirrors it on start()', async () => {
    const repo = await createRepo();
    await repo.commit({ 'pipeline.yml': 'jobs:\n  a:\n    steps: [{ run: "true" }]\n' });
    await mkdir(join(repo.path, 'src', 'deep'), { recursive: true });
    const parts = await createTriggerParts();
    await registerStartupRepos(config({ cwd: join(repo.path, 'src', 'deep') }), parts.store, parts.triggers, logger);
    const [found] = parts.store.repos.listRepos();
    expect(found).toMatchObject({ path: repo.path, defaultBranch: 'main' });
    expect(found!.name).toMatch(/^kiln-repo-/);
    await parts.triggers.start();
    await parts.triggers.started();
    expect((await parts.api.trigger(found!.name, { event: 'api' })).status).toBe('queued');
    await parts.stop();
  });

  it('registers nothing for a folder outside any repository or a repository without pipeline.yml, and refuses a configured path that is no repository', async () => {
    const bare = await createRepo();
    await bare.commit({ 'README.md': 'no pipeline' });
    const parts = await createTriggerParts();
    await registerStartupRepos(config({ cwd: bare.path }), parts.store, parts.triggers, logger);
    await registerStartupRepos(config({ cwd: await makeTempDir() }), parts.store, parts.triggers, logger);
    const notGit = await makeTempDir();
    await registerStartupRepos(config({ repos: [{ name: 'nope', path: notGit, url: null, pollMs: null }] as ServerConfig['repos'] }), parts.store, parts.triggers, logger);
    expect(parts.store.repos.listRepos()).toEqual([]);
    await parts.stop();
  });
});
