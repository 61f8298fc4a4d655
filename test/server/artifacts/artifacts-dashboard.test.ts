// The dashboard's run and job pages list the artifacts with their size and a download link.
import { describe, expect, it } from 'vitest';
import { plannedJob } from '../store/fixtures.js';
import { http, startKiln, upload } from './fixture.js';

describe('artifacts on the dashboard', () => {
  it('lists each artifact on its run page (with its job) and on its job page', async () => {
    const k = await startKiln();
    const run = k.run(plannedJob('build'), plannedJob('lint'));
    const { jobId, token } = k.claim(run.id, 'build');
    const { artifact } = (await upload(k.url, jobId, 'dist', Buffer.alloc(3 * 1024), token)).json();
    const runPage = (await http(k.url, 'GET', `/runs/${run.id}`)).body.toString();
    expect(runPage).toContain('<h2>Artifacts</h2>');
    expect(runPage).toMatch(new RegExp(`<a href="/api/artifacts/${artifact.id}"[^>]*>dist</a>`));
    expect(runPage).toContain(`<a href="/runs/${run.id}/jobs/${jobId}">build</a></td><td>3.0 KiB</td>`);
    const jobPage = (await http(k.url, 'GET', `/runs/${run.id}/jobs/${jobId}`)).body.toString();
    expect(jobPage).toMatch(new RegExp(`<a href="/api/artifacts/${artifact.id}"[^>]*>dist</a></td><td>3.0 KiB</td>`));
    const lintPage = (await http(k.url, 'GET', `/runs/${run.id}/jobs/${k.jobOf(run.id, 'lint').id}`)).body.toString();
    expect(lintPage).not.toContain('Artifacts');
  });
});
