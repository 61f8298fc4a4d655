import { describe, expect, it } from 'vitest';
import { hashToken } from '../../../server/store/index.js';
import { T0, newRun, seeded, tempStore } from './fixtures.js';

describe('agents', () => {
  it('register by name, and reconnecting updates the same row', () => {
    const { store, clock } = tempStore();
    const hello = { name: 'build-3', labels: ['linux'], pool: 'linux', capacity: 2, protocol: 1, version: '0.1.0' };
    const first = store.agents.registerAgent(hello);
    expect(first).toMatchObject({ status: 'idle', labels: ['linux'], jobs: [], connectedAt: new Date(T0).toISOString() });
    store.agents.setAgentStatus(first.id, 'offline');
    clock.advance(5000);
    const again = store.agents.registerAgent({ ...hello, labels: ['linux', 'gpu'] });
    expect(again).toMatchObject({ id: first.id, status: 'idle', labels: ['linux', 'gpu'] });
    expect(again.createdAt).toBe(first.createdAt);
    clock.advance(1000);
    store.agents.touchAgent(first.id);
    expect(store.agents.getAgentByName('build-3')?.lastSeenAt).toBe(new Date(T0 + 6000).toISOString());
  });

  it('cannot be removed while they hold a lease', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, 30_000)!;
    expect(store.agents.listAgents()[0]?.jobs).toEqual([job.id]);
    expect(store.agents.removeAgent(a!.id)).toBe(false);
    store.leases.completeJob(job.id, token, { status: 'success', exitCode: 0 }, T0 + 1);
    expect(store.agents.removeAgent(a!.id)).toBe(true);
    expect(store.agents.listAgents()).toEqual([]);
  });
});

describe('API tokens', () => {
  it('are stored as hashes and verified by the secret', () => {
    const { store, file } = tempStore();
    const admin = store.tokens.setToken({ kind: 'admin', name: 'admin', secret: 's3cret-admin' });
    store.tokens.setToken({ kind: 'agent', name: 'agent', secret: 's3cret-agent' });
    expect(store.tokens.verifyToken('s3cret-admin')).toEqual(admin);
    expect(store.tokens.verifyToken('s3cret-agent')?.kind).toBe('agent');
    expect(store.tokens.verifyToken('nope')).toBeNull();
    expect(hashToken('s3cret-admin')).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(store.tokens.listTokens())).not.toContain('s3cret');
    expect(file).toBeTruthy();
  });

  it('are replaced by name, so a new admin token retires the old one, even one verified before', () => {
    const { store } = tempStore();
    store.tokens.setToken({ kind: 'admin', name: 'admin', secret: 'old' });
    expect(store.tokens.verifyToken('old')?.name).toBe('admin');
    store.tokens.setToken({ kind: 'admin', name: 'admin', secret: 'new' });
    expect(store.tokens.verifyToken('old')).toBeNull();
    expect(store.tokens.verifyToken('new')?.name).toBe('admin');
    expect(store.tokens.deleteToken('admin')).toBe(true);
    expect(store.tokens.verifyToken('new')).toBeNull();
  });
});

describe('secrets', () => {
  it('are written per repo, listed by name only, and read back as values for injection', () => {
    const { store, repo } = seeded();
    const other = store.repos.addRepo({ name: 'api', url: 'https://git.example.com/api.git' });
    store.secrets.setSecret(repo.id, 'DEPLOY_KEY', 'k1');
    store.secrets.setSecret(repo.id, 'DEPLOY_KEY', 'k2');
    store.secrets.setSecret(repo.id, 'NPM_TOKEN', 'n');
    store.secrets.setSecret(other.id, 'DEPLOY_KEY', 'other');
    expect(store.secrets.listSecretNames(repo.id)).toEqual(['DEPLOY_KEY', 'NPM_TOKEN']);
    expect(store.secrets.getSecretValues(repo.id, ['DEPLOY_KEY', 'MISSING'])).toEqual({ DEPLOY_KEY: 'k2' });
    expect(store.secrets.deleteSecret(repo.id, 'NPM_TOKEN')).toBe(true);
    expect(store.secrets.deleteSecret(repo.id, 'NPM_TOKEN')).toBe(false);
    expect(store.secrets.getSecretValues(other.id, ['DEPLOY_KEY'])).toEqual({ DEPLOY_KEY: 'other' });
  });
});
