// A work tree as data (paths, types, modes, contents, link targets), for comparing a reused workspace with a fresh clone.
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === '.git') continue;
      const full = join(root, path);
      const info = await lstat(full);
      if (info.isSymbolicLink()) out[path] = `link -> ${await readlink(full)}`;
      else if (info.isDirectory()) {
        out[`${path}/`] = 'dir';
        await walk(path);
      } else out[path] = `file ${(info.mode & 0o777).toString(8)} ${(await readFile(full)).toString('base64')}`;
    }
  };
  await walk('');
  return out;
}
