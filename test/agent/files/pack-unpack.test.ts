// Packing workspace paths into .tar.gz and unpacking them, on real folders: what is kept, what is refused.
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPaths } from '../../../agent/files/collect.js';
import { digestFile } from '../../../agent/files/digest.js';
import { packEntries } from '../../../agent/files/pack.js';
import { unpackArchive } from '../../../agent/files/unpack.js';
import { useTempDirs } from '../../helpers/tmp.js';

const tempDir = useTempDirs('kiln-files-');

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

async function collected(root: string, patterns: string[]): Promise<string[]> {
  const result = await collectPaths(root, patterns);
  if (!result.ok) throw new Error(result.refusal);
  return result.entries.map((e) => e.path);
}

async function refusal(root: string, patterns: string[]): Promise<string> {
  const result = await collectPaths(root, patterns);
  return result.ok ? `accepted: ${result.entries.map((e) => e.path).join(', ')}` : result.refusal;
}

describe('collecting artifact and cache paths', () => {
  it('takes a folder recursively, a file, and globs with * and **', async () => {
    const ws = await tempDir();
    await files(ws, { 'dist/a.js': 'a', 'dist/sub/b.js': 'b', 'README.md': 'r', 'logs/x.log': 'x', 'logs/deep/y.log': 'y', 'src/z.ts': 'z' });
    expect(await collected(ws, ['dist/'])).toEqual(['dist', 'dist/a.js', 'dist/sub', 'dist/sub/b.js']);
    expect(await collected(ws, ['./README.md', 'dist'])).toEqual(['README.md', 'dist', 'dist/a.js', 'dist/sub', 'dist/sub/b.js']);
    expect(await collected(ws, ['logs/*.log'])).toEqual(['logs/x.log']);
    expect(await collected(ws, ['**/*.log'])).toEqual(['logs/deep/y.log', 'logs/x.log']);
    expect(await collected(ws, ['dist/', '!dist/sub/**'])).toEqual(['dist', 'dist/a.js', 'dist/sub']);
  });

  it('finds nothing for a path that does not exist (no error)', async () => {
    const ws = await tempDir();
    expect(await collected(ws, ['dist/', 'out/*.txt'])).toEqual([]);
  });

  it('refuses .. and absolute paths, naming the pattern', async () => {
    const ws = await tempDir();
    expect(await refusal(ws, ['../x'])).toBe('../x leaves the workspace (..)');
    expect(await refusal(ws, ['dist/../../x'])).toBe('dist/../../x leaves the workspace (..)');
    expect(await refusal(ws, ['/etc/passwd'])).toBe('/etc/passwd is an absolute path (paths are relative to the workspace)');
  });

  it('refuses a symlink whose target is outside the workspace, and keeps one inside as a symlink', async () => {
    const ws = await tempDir();
    await files(ws, { 'dist/a.js': 'a' });
    await symlink('/etc', join(ws, 'dist/evil'));
    expect(await refusal(ws, ['dist/'])).toBe('dist/evil is a symlink to /etc (outside the workspace)');
    const ws2 = await tempDir();
    await files(ws2, { 'dist/a.js': 'a', 'other/o': 'o' });
    await symlink('../../other', join(ws2, 'dist/up'));
    expect(await refusal(ws2, ['dist/'])).toBe('dist/up is a symlink to ../../other (outside the workspace)');
    const ws3 = await tempDir();
    await files(ws3, { 'dist/a.js': 'a' });
    await symlink('a.js', join(ws3, 'dist/alias.js'));
    expect(await collected(ws3, ['dist/'])).toEqual(['dist', 'dist/a.js', 'dist/alias.js']);
  });

  it('refuses a path through a symlinked folder', async () => {
    const ws = await tempDir();
    await symlink('/etc', join(ws, 'etc'));
    expect(await refusal(ws, ['etc/passwd'])).toBe('etc/passwd goes through the symlink etc (name the folder it points to)');
  });

  it('refuses a hard link to a file outside the workspace, and keeps hard links within it', async () => {
    const outside = await tempDir();
    const ws = await tempDir();
    await files(outside, { secret: 's' });
    await mkdir(join(ws, 'dist'));
    await link(join(outside, 'secret'), join(ws, 'dist/secret'));
    expect(await refusal(ws, ['dist/'])).toBe('dist/secret is a hard link to a file outside the workspace');
    const ws2 = await tempDir();
    await files(ws2, { 'dist/a': 'a' });
    await link(join(ws2, 'dist/a'), join(ws2, 'kept-elsewhere'));
    expect(await collected(ws2, ['dist/'])).toEqual(['dist', 'dist/a']);
  });

  it('refuses a FIFO', async () => {
    const ws = await tempDir();
    await mkdir(join(ws, 'dist'));
    execFileSync('mkfifo', [join(ws, 'dist/pipe')]);
    expect(await refusal(ws, ['dist/'])).toBe('dist/pipe is a FIFO (only files, folders and symlinks are kept)');
  });

  it('refuses a device file', async (ctx) => {
    const ws = await tempDir();
    await mkdir(join(ws, 'dist'));
    try {
      execFileSync('mknod', [join(ws, 'dist/null'), 'c', '1', '3'], { stdio: 'pipe' });
    } catch (err) {
      ctx.skip(`mknod is not allowed here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`);
    }
    expect(await refusal(ws, ['dist/'])).toBe('dist/null is a character device (only files, folders and symlinks are kept)');
  });
});

describe('packing and unpacking', () => {
  it('round-trips bytes, modes, empty folders and symlinks inside, with the digest of the archive file', async () => {
    const ws = await tempDir();
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await files(ws, { 'dist/a.txt': 'hello\n', 'dist/sub/run.sh': '#!/bin/sh\necho hi\n', '@odd': 'at' });
    await writeFile(join(ws, 'dist/blob.bin'), bytes);
    await chmod(join(ws, 'dist/sub/run.sh'), 0o755);
    await mkdir(join(ws, 'dist/empty'));
    await symlink('sub/run.sh', join(ws, 'dist/run'));
    const result = await collectPaths(ws, ['dist/', '@odd']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const archive = join(await tempDir(), 'a.tgz');
    const digest = await packEntries(ws, result.entries, archive);
    expect(digest).toEqual(await digestFile(archive));

    const target = await tempDir();
    await unpackArchive(archive, digest.sha256, target);
    expect(await readFile(join(target, 'dist/a.txt'), 'utf8')).toBe('hello\n');
    expect((await readFile(join(target, 'dist/blob.bin'))).equals(bytes)).toBe(true);
    expect((await lstat(join(target, 'dist/sub/run.sh'))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(target, 'dist/empty'))).isDirectory()).toBe(true);
    expect((await lstat(join(target, 'dist/run'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(target, 'dist/run'))).toBe('sub/run.sh');
    expect(await readFile(join(target, '@odd'), 'utf8')).toBe('at');
  });

  it('checks the digest before extracting anything', async () => {
    const ws = await tempDir();
    await files(ws, { 'dist/a.txt': 'a' });
    const result = await collectPaths(ws, ['dist']);
    if (!result.ok) throw new Error(result.refusal);
    const archive = join(await tempDir(), 'a.tgz');
    await packEntries(ws, result.entries, archive);
    const target = await tempDir();
    await expect(unpackArchive(archive, '0'.repeat(64), target)).rejects.toThrow(/sha256 is [0-9a-f]{12}…, expected 000000000000…/);
    await expect(lstat(join(target, 'dist'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses archives with .. or absolute paths, links out, and FIFOs', async () => {
    const src = await tempDir();
    await files(src, { 'x/file': 'f' });
    execFileSync('mkfifo', [join(src, 'x/pipe')]);
    await symlink('/etc/passwd', join(src, 'x/out'));
    await symlink('../../etc', join(src, 'x/up'));
    // Hostile archives come from GNU tar (node-tar will not write FIFOs, nor .. with its defaults).
    const make = async (list: string[]) => {
      const archive = join(await tempDir(), 'evil.tgz');
      execFileSync('tar', ['-czPf', archive, '-C', join(src, 'x'), ...list]);
      return { archive, sha256: (await digestFile(archive)).sha256 };
    };
    const fifo = await make(['file', 'pipe']);
    await expect(unpackArchive(fifo.archive, fifo.sha256, await tempDir())).rejects.toThrow('the archive holds a FIFO, pipe (refused)');
    const linkOut = await make(['out']);
    await expect(unpackArchive(linkOut.archive, linkOut.sha256, await tempDir())).rejects.toThrow('unpacking failed: TAR_ENTRY_INFO: stripping / from absolute linkpath');
    const upOut = await make(['up']);
    await expect(unpackArchive(upOut.archive, upOut.sha256, await tempDir())).rejects.toThrow('unpacking failed: TAR_ENTRY_ERROR: linkpath escapes extraction directory');
    const dotdot = await make(['../x/file']);
    await expect(unpackArchive(dotdot.archive, dotdot.sha256, await tempDir())).rejects.toThrow(/unpacking failed: .*'\.\.'/);
    const absolute = await make([join(src, 'x/file')]);
    await expect(unpackArchive(absolute.archive, absolute.sha256, await tempDir())).rejects.toThrow(/unpacking failed: .*absolute/);
  });
});
