// Commit status requests as each forge documents them: path, method, auth header, body, and
// the state every kiln status maps to (a final status is never left pending).
import { describe, expect, it } from 'vitest';
import { FORGE_STATES, repoPath, statusRequest } from '../../../server/forge/statuses.js';
import { FINAL_STATUSES, STATUSES } from '../../../shared/status.js';

const SHA = 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327';
const status = { sha: SHA, status: 'failed' as const, context: 'kiln/web', targetUrl: 'https://ci.example.com/runs/7', description: 'kiln run #3 failed' };

describe('commit statuses', () => {
  it('GitHub: POST /repos/{owner}/{repo}/statuses/{sha} with a bearer token and {state, target_url, description, context}', () => {
    const r = statusRequest({ kind: 'github', apiUrl: 'https://api.github.com/', token: 'ghp_x' }, 'https://github.com/acme/web.git', status);
    expect(r).toMatchObject({ method: 'POST', url: `https://api.github.com/repos/acme/web/statuses/${SHA}` });
    expect(r.headers).toMatchObject({ Authorization: 'Bearer ghp_x', Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' });
    expect(JSON.parse(r.body)).toEqual({ state: 'failure', target_url: 'https://ci.example.com/runs/7', description: 'kiln run #3 failed', context: 'kiln/web' });
  });

  it('GitLab: POST /projects/{url-encoded path}/statuses/{sha} with PRIVATE-TOKEN and {state, target_url, description, name}', () => {
    const r = statusRequest({ kind: 'gitlab', apiUrl: 'https://gitlab.example.com/api/v4', token: 'glpat' }, 'git@gitlab.example.com:group/sub/web.git', status);
    expect(r.url).toBe(`https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fweb/statuses/${SHA}`);
    expect(r.headers['PRIVATE-TOKEN']).toBe('glpat');
    expect(JSON.parse(r.body)).toEqual({ state: 'failed', target_url: 'https://ci.example.com/runs/7', description: 'kiln run #3 failed', name: 'kiln/web' });
  });

  it('Gitea: POST /repos/{owner}/{repo}/statuses/{sha} with "token" auth', () => {
    const r = statusRequest({ kind: 'gitea', apiUrl: 'https://gitea.example.com/api/v1', token: 'tea' }, 'ssh://git@gitea.example.com:2222/team/web.git', status);
    expect(r.url).toBe(`https://gitea.example.com/api/v1/repos/team/web/statuses/${SHA}`);
    expect(r.headers.Authorization).toBe('token tea');
    expect(JSON.parse(r.body)).toMatchObject({ state: 'failure', context: 'kiln/web' });
  });

  it('Bitbucket: POST /repositories/{workspace}/{slug}/commit/{sha}/statuses/build with {key, state, url, name, description}', () => {
    const r = statusRequest({ kind: 'bitbucket', apiUrl: 'https://api.bitbucket.org/2.0', token: 'bb' }, 'https://bitbucket.org/team/web.git', status);
    expect(r.url).toBe(`https://api.bitbucket.org/2.0/repositories/team/web/commit/${SHA}/statuses/build`);
    expect(r.headers.Authorization).toBe('Bearer bb');
    expect(JSON.parse(r.body)).toEqual({ key: 'kiln/web', state: 'FAILED', url: 'https://ci.example.com/runs/7', name: 'kiln/web', description: 'kiln run #3 failed' });
  });

  it('maps every kiln status, and no final one to a pending state', () => {
    const pending = { github: 'pending', gitea: 'pending', gitlab: ['pending', 'running'], bitbucket: 'INPROGRESS' };
    for (const [kind, states] of Object.entries(FORGE_STATES)) {
      for (const s of STATUSES) {
        const state = states[s];
        expect(state, `${kind} ${s}`).toBeTruthy();
        const isPending = ([] as string[]).concat(pending[kind as keyof typeof pending]).includes(state);
        expect(isPending, `${kind} ${s} → ${state}`).toBe(!FINAL_STATUSES.has(s));
      }
    }
    expect(FORGE_STATES.github).toMatchObject({ success: 'success', failed: 'failure', error: 'error', cancelled: 'error', skipped: 'success' });
    expect(FORGE_STATES.gitlab).toMatchObject({ cancelled: 'canceled', skipped: 'skipped' });
    expect(FORGE_STATES.bitbucket).toMatchObject({ cancelled: 'STOPPED' });
  });

  it('reads owner/repo from https, ssh and scp-style URLs', () => {
    expect(repoPath('https://github.com/acme/web.git')).toBe('acme/web');
    expect(repoPath('https://github.com/acme/web')).toBe('acme/web');
    expect(repoPath('git@github.com:acme/web.git')).toBe('acme/web');
    expect(repoPath('ssh://git@host:22/group/sub/web.git')).toBe('group/sub/web');
  });
});
