// `kiln completion bash|zsh` as a shell loads it: the built CLI's script sourced into real bash
// (and zsh, with its completion builtins recorded), then asked what completes a command line.
// Also: every command's flags complete exactly as its --help lists them.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const KILN = join(import.meta.dirname, '../../dist/bundle/kiln.js');
const exec = promisify(execFile);
const hasZsh = (() => {
  try {
    execFileSync('zsh', ['-c', 'true']);
    return true;
  } catch {
    // CI installs it (.ci/run) and asks for it: there a missing zsh is a failure, not a skip.
    if (process.env.KILN_TEST_REQUIRE_ZSH === '1') throw new Error('KILN_TEST_REQUIRE_ZSH=1 but no zsh on PATH (apt-get install zsh)');
    return false;
  }
})();

let bashScript = '';
let zshScript = '';
beforeAll(async () => {
  bashScript = (await exec(process.execPath, [KILN, 'completion', 'bash'])).stdout;
  zshScript = (await exec(process.execPath, [KILN, 'completion', 'zsh'])).stdout;
});

/** What bash offers for the command line `words` (the last word is the one being completed). */
async function bashComplete(...words: string[]): Promise<string[]> {
  const script = `${bashScript}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kiln; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec('bash', ['-c', script]);
  return stdout.split('\n').filter(Boolean);
}

/** What zsh's _kiln adds for `words`: compadd, _describe and _files replaced by recorders. */
async function zshComplete(...words: string[]): Promise<string[]> {
  const script = `compdef() { :; }
compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
_describe() { local -a list; list=("\${(@P)2}"); print -l -- "\${list[@]%%:*}"; }
_files() { print -- '(files)'; }
${zshScript}
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'
_kiln`;
  const { stdout } = await exec('zsh', ['-c', script]);
  // zsh's compadd filters by PREFIX itself; the recorder does not, so filter here.
  return stdout.split('\n').filter((w) => w && (w === '(files)' || w.startsWith(words.at(-1)!)));
}

async function commands(): Promise<string[]> {
  const { stdout } = await exec(process.execPath, [KILN, '--help']);
  return [...stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!);
}

describe('kiln completion bash', () => {
  it('completes commands, flags and secret\'s actions; leaves files to bash', async () => {
    expect(await bashComplete('kiln', 're')).toEqual(['repo', 'rerun', 'retry']);
    expect(await bashComplete('kiln', 'rerun', 'web#3', '--f')).toEqual(['--failed']);
    expect(await bashComplete('kiln', 'trigger', 'web', '--w')).toEqual(['--wait']);
    expect(await bashComplete('kiln', 'secret', 'd')).toEqual(['delete']);
    expect(await bashComplete('kiln', 'completion', '')).toEqual(['bash', 'zsh']);
    expect(await bashComplete('kiln', 'validate', 'pipe')).toEqual([]);
    const sourced = await exec('bash', ['-c', `source <("${process.execPath}" "${KILN}" completion bash); complete -p kiln`]);
    expect(sourced.stdout).toBe('complete -o default -F _kiln kiln\n');
  });

  it('offers every command of kiln --help, and each command\'s flags exactly as its --help lists them', async () => {
    const names = await commands();
    expect(names).toContain('approve');
    expect(await bashComplete('kiln', '')).toEqual([...names, 'help', '--help', '--version']);
    for (const name of names) {
      const { stdout } = await exec(process.execPath, [KILN, name, '--help']);
      const listed = new Set([...stdout.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]));
      listed.add('--help');
      expect(new Set(await bashComplete('kiln', name, '--')), name).toEqual(listed);
    }
  });

  it('is a usage mistake without bash or zsh', async () => {
    const failed = await exec(process.execPath, [KILN, 'completion', 'fish']).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringMatching(/^kiln: completion: say bash or zsh\n\nUsage: kiln completion bash\|zsh\n/) });
  });
});

describe.skipIf(!hasZsh)('kiln completion zsh', () => {
  it('completes commands, flags and secret\'s actions; leaves files to zsh', async () => {
    expect(await zshComplete('kiln', 're')).toEqual(['repo', 'rerun', 'retry']);
    expect(await zshComplete('kiln', 'rerun', 'web#3', '--f')).toEqual(['--failed']);
    expect(await zshComplete('kiln', 'secret', 'l')).toEqual(['list']);
    expect(await zshComplete('kiln', 'logs', '--')).toEqual(['--follow', '--job', '--server', '--token', '--help']);
    expect(await zshComplete('kiln', 'validate', '')).toEqual(['(files)']);
    expect((await exec('zsh', ['-n', '-c', zshScript])).stderr).toBe('');
  });
});
