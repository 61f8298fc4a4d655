// A reused workspace's `.git`: written back to what kiln made before each checkout, so a job cannot leave code for the agent to run.
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlannedCheckout } from '../../shared/pipeline/types.js';

/** Options on every git command in a workspace: a job's hooks or fsmonitor never run on the agent. */
export const WORKSPACE_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'gc.autoDetach=false', '-c', 'maintenance.autoDetach=false'];

/** Whether `dir` has a `.git` folder with a HEAD (one stat). */
export async function looksLikeRepo(dir: string): Promise<boolean> {
  return (await stat(join(dir, '.git', 'HEAD')).catch(() => null))?.isFile() ?? false;
}

export interface GitDirSettings {
  /** `origin`: the server's URL for the repo. */
  url: string;
  sha256: boolean;
  mode: PlannedCheckout;
}

/**
 * Writes `.git/config` whole and removes what would make git run or read something kiln did
 * not put there (hooks, attributes with filter drivers, alternates, a common dir elsewhere).
 * Why: a job — in a container too, where the workspace is mounted — can write anything in
 * `.git`, and the next checkout runs on the agent's host. `.git/index.lock` a killed job left
 * goes too: only this agent slot uses the workspace, and nothing runs in it between jobs.
 */
export async function resetGitDir(workTree: string, s: GitDirSettings): Promise<void> {
  const git = join(workTree, '.git');
  await writeFile(join(git, 'config'), gitConfigText(s));
  await Promise.all(FOREIGN_IN_GIT_DIR.map((p) => rm(join(git, p), { recursive: true, force: true })));
}

/** What resetGitDir removes from `.git`: a fresh clone by kiln has none of them. */
export const FOREIGN_IN_GIT_DIR = ['hooks', 'info/attributes', 'objects/info/alternates', 'commondir', 'index.lock', 'HEAD.lock', 'shallow.lock'];

/** The whole `.git/config` kiln writes for a workspace. */
export function gitConfigText(s: GitDirSettings): string {
  const partial = s.mode.filter !== null;
  const extensions = [s.sha256 ? '\tobjectformat = sha256' : '', partial ? '\tpartialclone = origin' : ''].filter(Boolean);
  return [
    '[core]',
    `\trepositoryformatversion = ${extensions.length > 0 ? 1 : 0}`,
    '\tfilemode = true',
    '\tbare = false',
    '\tlogallrefupdates = true',
    ...(process.platform === 'darwin' ? ['\tignorecase = true', '\tprecomposeunicode = true'] : []),
    ...(extensions.length > 0 ? ['[extensions]', ...extensions] : []),
    '[remote "origin"]',
    `\turl = ${quote(s.url)}`,
    '\tfetch = +refs/heads/*:refs/remotes/origin/*',
    ...(partial ? ['\tpromisor = true', `\tpartialclonefilter = ${s.mode.filter}`] : []),
    '',
  ].join('\n');
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
