// The steps' folder: scripts and process-group files, on the host next to the workspace, at /.kiln inside.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Where the steps' folder is mounted in the job container. */
export const STEP_DIR = '/.kiln';

/**
 * Why next to the workspace and not in it: the checkout stays as git made it (no stray files
 * in `git status`, build contexts or artifacts). Why on the host and not copied in through
 * the API: writing a file costs nothing, a `putArchive` ~40 ms per step. It sits in the same
 * parent as the workspace, so whatever makes the workspace's path valid for the Docker host
 * makes this one valid too. Mode 0777 (not sticky): any step user writes its pgid file, and
 * the agent can remove what they wrote.
 */
export interface StepDir {
  /** The folder on the agent's host (bind-mounted at STEP_DIR). */
  readonly hostPath: string;
  /** Writes step `index`'s script; returns the paths the container sees. */
  write(index: number, script: string): Promise<{ script: string; pgid: string }>;
  /** Removes the folder; safe twice. */
  remove(): Promise<void>;
}

export async function makeStepDir(workspace: string): Promise<StepDir> {
  const hostPath = await mkdtemp(join(dirname(workspace), `.${basename(workspace)}.kiln-`));
  await chmod(hostPath, 0o777);
  return {
    hostPath,
    async write(index, script) {
      const name = `step-${index}`;
      await writeFile(join(hostPath, `${name}.sh`), script.endsWith('\n') ? script : `${script}\n`, { mode: 0o755 });
      return { script: `${STEP_DIR}/${name}.sh`, pgid: `${STEP_DIR}/${name}.pgid` };
    },
    remove: () => rm(hostPath, { recursive: true, force: true }),
  };
}
