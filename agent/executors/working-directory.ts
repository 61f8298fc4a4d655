// A step's `working-directory`: it must exist in the workspace before the step runs (as in GitHub
// Actions); the executors run the step there. Checked on the host, where both executors' workspace lives.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The line that fails the step when its working directory is not a folder of the workspace, or null. */
export async function missingWorkingDirectory(workspace: string, dir: string | null): Promise<string | null> {
  if (dir === null) return null;
  const found = await stat(join(workspace, dir)).catch(() => null);
  if (found?.isDirectory()) return null;
  return `working-directory "${dir}" ${found ? 'is not a folder' : 'does not exist'} in the workspace`;
}
