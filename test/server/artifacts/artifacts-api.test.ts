// Artifacts over real HTTP on a real server: uploads with a job's transfer token, lists, and
// downloads with ranges; every refusal answers one JSON line and leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/kiln.js';
import { plannedJob } from '../store/fixtures.js';
import { ADMIN, AGENT, dataDir, http, rawHead, sha256, startKiln, upload } from './fixture.js';

const files = (data: string, dir: 'sha256' | 'tmp') => {
  const root = join(data, 'artifacts', dir);
  return dir === 'tmp' ? readdirSync(root) : readdirSync(root).flatMap((p) => readdirSync(join(root, p)));
};

describe('artifact uploads and downloads', () => {
  it('stores an upload, lists it for the job and the run, and serves the same bytes', async () => {
    const k = await startKiln();
    const run = k.run(plannedJob('build', { artifacts: { paths: ['dist'], expireMs: 3_600_000 } }), plannedJob('lint'));
    const { jobId, token } = k.claim(run.id, 'build');
    const data = randomBytes(100_000);
    const put = await upload(k.url, jobId, 'dist', data, token);
    expect(put.status).toBe(201);
    const artifact = put.json().artifact;
    expect(artifact).toMatchObject({ job_id: jobId, run_id: run.id, job: 'build', name: 'dist', size: data.length, sha256: sha256(data), url: `/api/artifacts/${artifact.id}` });
    expect(Date.parse(artifact.expires_at) - Date.parse(artifact.created_at)).toBe(3_600_000);

    expect((await http(k.url, 'GET', `/api/jobs/${jobId}/artifacts`)).json()).toEqual([artifact]);
    expect((await http(k.url, 'GET', `/api/runs/${run.id}/artifacts`)).json()).toEqual([artifact]);
    expect((await http(k.url, 'GET', `/api/jobs/${k.jobOf(run.id, 'lint').id}/artifacts`)).json()).toEqual([]);

    const got = await http(k.url, 'GET', artifact.url);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(data));
    expect(got.headers).toMatchObject({
      'content-type': 'application/gzip', 'content-length': String(data.length), etag: `"${sha256(data)}"`,
      'x-kiln-sha256': sha256(data), 'accept-ranges': 'bytes', 'content-disposition': expect.stringContaining('filename="dist.tar.gz"'),
    });
  });

  it('uses the server default expiry when the job names none, and replaces an upload of the same name', async () => {
    const k = await startKiln({ artifactExpireMs: 86_400_000 });
    const run = k.run(plannedJob('build'));
    const { jobId, token } = k.claim(run.id, 'build');
    const first = (await upload(k.url, jobId, 'dist', Buffer.from('one'), token)).json().artifact;
    expect(Date.parse(first.expires_at) - Date.parse(first.created_at)).toBe(86_400_000);
    const again = await upload(k.url, jobId, 'dist', Buffer.from('two'), token);
    expect(again.status).toBe(201);
    expect(again.json().artifact).toMatchObject({ id: first.id, sha256: sha256('two'), size: 3 });
    expect((await http(k.url, 'GET', `/api/jobs/${jobId}/artifacts`)).json()).toHaveLength(1);
    expect((await http(k.url, 'GET', `/api/artifacts/${first.id}`)).body.toString()).toBe('two');
  });

  it('answers a single range with 206, an unsatisfiable one with 416, several with the whole file', async () => {
    const k = await startKiln();
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const data = Buffer.from('0123456789');
    const { id } = (await upload(k.url, jobId, 'dist', data, token)).json().artifact;
    const ranged = (range: string) => http(k.url, 'GET', `/api/artifacts/${id}`, { headers: { range } });

    const mid = await ranged('bytes=2-5');
    expect([mid.status, mid.body.toString(), mid.headers['content-range'], mid.headers['content-length']]).toEqual([206, '2345', 'bytes 2-5/10', '4']);
    const open = await ranged('bytes=7-');
    expect([open.status, open.body.toString(), open.headers['content-range']]).toEqual([206, '789', 'bytes 7-9/10']);
    const suffix = await ranged('bytes=-3');
    expect([suffix.status, suffix.body.toString(), suffix.headers['content-range']]).toEqual([206, '789', 'bytes 7-9/10']);
    const past = await ranged('bytes=5-100');
    expect([past.status, past.body.toString()]).toEqual([206, '56789']);

    const outside = await ranged('bytes=10-');
    expect([outside.status, outside.headers['content-range']]).toEqual([416, 'bytes */10']);
    expect(outside.json()).toEqual({ error: expect.any(String) });
    expect((await ranged('bytes=-0')).status).toBe(416);

    const head = await http(k.url, 'HEAD', `/api/artifacts/${id}`, { headers: { range: 'bytes=2-5' } });
    expect([head.status, head.headers['content-length'], head.headers['content-range'], head.body.length]).toEqual([206, '4', 'bytes 2-5/10', 0]);
    const several = await ranged('bytes=0-1,4-5');
    expect([several.status, several.body.toString()]).toEqual([200, '0123456789']);
  });

  it('refuses an upload whose digest is not the announced one, and keeps no file', async () => {
    const k = await startKiln();
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const bad = await upload(k.url, jobId, 'dist', Buffer.from('the real bytes'), token, sha256('other bytes'));
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: expect.stringMatching(/sha256/) });
    expect(await upload(k.url, jobId, 'dist', Buffer.from('x'), token, 'not-a-digest')).toMatchObject({ status: 400 });
    expect(files(k.data, 'sha256')).toEqual([]);
    expect(files(k.data, 'tmp')).toEqual([]);
    expect(k.store.artifacts.listJobArtifacts(jobId)).toEqual([]);
  });

  it('refuses an archive over artifact_max with 413, by its Content-Length at once or as it streams, and keeps no file', async () => {
    const k = await startKiln({ artifactMaxBytes: 1024 });
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const big = randomBytes(4096);
    const declared = await upload(k.url, jobId, 'dist', big, token);
    expect(declared.status).toBe(413);
    expect(declared.json()).toEqual({ error: 'artifact "dist" is over server.artifact_max (1.0 KiB)' });
    const chunked = await http(k.url, 'PUT', `/api/jobs/${jobId}/artifacts/dist`, {
      token, headers: { 'x-kiln-sha256': sha256(big), 'transfer-encoding': 'chunked' }, body: [big.subarray(0, 1000), big.subarray(1000)],
    });
    expect(chunked.status).toBe(413);
    expect(files(k.data, 'sha256')).toEqual([]);
    expect(files(k.data, 'tmp')).toEqual([]);
    expect(k.store.artifacts.listJobArtifacts(jobId)).toEqual([]);
    // A declared length over the limit is refused before any byte of the body is read.
    // The server closes the connection after it, not waiting for the 5 GiB.
    const announced = await rawHead(k.url, [
      `PUT /api/jobs/${jobId}/artifacts/dist HTTP/1.1`, 'Host: kiln', `Authorization: Bearer ${token}`, `X-Kiln-Sha256: ${sha256(big)}`, `Content-Length: ${5 * 1024 ** 3}`,
    ].join('\r\n'), 'the first bytes');
    expect(announced).toMatch(/^HTTP\/1.1 413 /);
    expect(announced).toMatch(/\r\nconnection: close\r\n/i);
    // At the limit it is taken.
    expect((await upload(k.url, jobId, 'dist', big.subarray(0, 1024), token)).status).toBe(201);
  });

  it('keeps nothing of an upload whose connection is cut off in the middle', async () => {
    const k = await startKiln();
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const socket = connect(k.server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write([`PUT /api/jobs/${jobId}/artifacts/dist HTTP/1.1`, 'Host: kiln', `Authorization: Bearer ${token}`, `X-Kiln-Sha256: ${sha256('x')}`, 'Content-Length: 100000', '', 'first bytes'].join('\r\n'));
    await eventually(() => files(k.data, 'tmp').length === 1, 5000, 'the upload under way');
    socket.destroy();
    await eventually(() => files(k.data, 'tmp').length === 0, 5000, 'the partial file removed');
    expect(files(k.data, 'sha256')).toEqual([]);
    expect(k.store.artifacts.listJobArtifacts(jobId)).toEqual([]);
    expect((await http(k.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('takes an archive larger than the API body limit of 1 MiB', async () => {
    const k = await startKiln();
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const data = randomBytes(3 * 1024 * 1024);
    expect((await upload(k.url, jobId, 'dist', data, token)).status).toBe(201);
    const chunks = Array.from({ length: 3 }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    const chunked = await http(k.url, 'PUT', `/api/jobs/${jobId}/artifacts/chunked`, { token, headers: { 'x-kiln-sha256': sha256(data), 'transfer-encoding': 'chunked' }, body: chunks });
    expect(chunked.status).toBe(201);
  });
});

describe('who may upload', () => {
  it('refuses a wrong, absent or stale token with 401, the admin and agent tokens too, and another job\'s token with 403', async () => {
    const k = await startKiln();
    const run = k.run(plannedJob('build'), plannedJob('lint'));
    const build = k.claim(run.id, 'build');
    const lint = k.claim(run.id, 'lint');
    const data = Buffer.from('bytes');
    for (const token of [null, 'wrong', `${build.jobId}.${'A'.repeat(43)}`, ADMIN, AGENT]) {
      const answer = await upload(k.url, build.jobId, 'dist', data, token);
      expect(answer.status).toBe(401);
      expect(answer.json()).toEqual({ error: expect.stringMatching(/transfer token/) });
    }
    const other = await upload(k.url, build.jobId, 'dist', data, lint.token);
    expect(other.status).toBe(403);
    expect(other.json()).toEqual({ error: `this token belongs to job ${lint.jobId}, not job ${build.jobId}` });

    k.finish(build.jobId, build.lease);
    await k.store.committed();
    expect((await upload(k.url, build.jobId, 'dist', data, build.token)).status).toBe(401);
    expect(k.store.artifacts.listRunArtifacts(run.id)).toEqual([]);
    expect(files(k.data, 'sha256')).toEqual([]);
  });

  it('refuses names with path tricks, control characters or over 200 characters', async () => {
    const k = await startKiln();
    const { jobId, token } = k.claim(k.run(plannedJob('build')).id, 'build');
    const data = Buffer.from('bytes');
    for (const name of ['a%2Fb', '..%2F..%2Fetc', 'a%5Cb', 'a%00b', 'a%0Ab', 'a%7Fb', 'x'.repeat(201)]) {
      const answer = await upload(k.url, jobId, name, data, token);
      expect([name, answer.status]).toEqual([name, 400]);
      expect(answer.json()).toEqual({ error: expect.stringMatching(/^an artifact name /) });
    }
    // A dot segment (plain or %2E) is resolved away with the URL, and a path of more or fewer
    // segments is another route: none reaches the upload.
    for (const name of ['..', '.', '%2E%2E', '%2e', 'a/b', '']) expect([name, (await upload(k.url, jobId, name, data, token)).status]).toEqual([name, 404]);
    expect(k.store.artifacts.listJobArtifacts(jobId)).toEqual([]);
    expect(files(k.data, 'sha256')).toEqual([]);
    // Spaces, dots and unicode are names like others.
    const fine = await upload(k.url, jobId, encodeURIComponent('test report v1.2 ✓'), data, token);
    expect(fine.status).toBe(201);
    expect(fine.json().artifact.name).toBe('test report v1.2 ✓');
    const got = await http(k.url, 'GET', fine.json().artifact.url);
    expect(got.headers['content-disposition']).toBe(`attachment; filename="test report v1.2 _.tar.gz"; filename*=UTF-8''${encodeURIComponent('test report v1.2 ✓.tar.gz')}`);
  });

  it('answers 404 for unknown jobs, runs and artifacts, and 400 for ids that are not ids', async () => {
    const k = await startKiln();
    expect((await http(k.url, 'GET', '/api/jobs/999/artifacts')).status).toBe(404);
    expect((await http(k.url, 'GET', '/api/runs/999/artifacts')).status).toBe(404);
    expect((await http(k.url, 'GET', '/api/artifacts/999')).json()).toEqual({ error: 'no artifact 999' });
    expect((await http(k.url, 'GET', '/api/artifacts/abc')).status).toBe(400);
  });
});

describe('a private server', () => {
  it('lets a transfer token of the same run download, and nothing else without a token', async () => {
    const k = await startKiln({ private: true });
    const run = k.run(plannedJob('build'), plannedJob('test'));
    const build = k.claim(run.id, 'build');
    const { id } = (await upload(k.url, build.jobId, 'dist', Buffer.from('bytes'), build.token)).json().artifact;
    const test = k.claim(run.id, 'test');
    const url = `/api/artifacts/${id}`;
    expect((await http(k.url, 'GET', url, { token: test.token })).body.toString()).toBe('bytes');
    expect((await http(k.url, 'GET', url, { token: ADMIN })).status).toBe(200);
    expect(await http(k.url, 'GET', url)).toMatchObject({ status: 401 });
    expect((await http(k.url, 'GET', url, { token: 'wrong' })).status).toBe(401);
    // The transfer token opens its routes only: not the lists, not the rest of the API.
    expect((await http(k.url, 'GET', `/api/runs/${run.id}/artifacts`, { token: test.token })).status).toBe(401);
    expect((await http(k.url, 'GET', `/api/runs/${run.id}`, { token: test.token })).status).toBe(401);
    expect((await http(k.url, 'GET', `/api/runs/${run.id}/artifacts`, { token: ADMIN })).json()).toHaveLength(1);

    // A job of another run may not.
    const otherRun = k.run(plannedJob('build'));
    const stranger = k.claim(otherRun.id, 'build');
    const refused = await http(k.url, 'GET', url, { token: stranger.token });
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual({ error: expect.stringMatching(/its own run/) });
  });
});

describe('the start', () => {
  it('removes partial uploads left in <data>/artifacts/tmp', async () => {
    const data = dataDir();
    mkdirSync(join(data, 'artifacts', 'tmp'), { recursive: true });
    writeFileSync(join(data, 'artifacts', 'tmp', 'abc123'), 'half an upload');
    await startKiln({}, data);
    expect(existsSync(join(data, 'artifacts', 'tmp', 'abc123'))).toBe(false);
  });
});
