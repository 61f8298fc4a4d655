// `kiln completion bash|zsh`: prints a shell completion script for kiln's commands, their
// flags and `secret`'s actions; anything else (files, runs) falls back to the shell's own.

import { parseCommand, UsageError } from './args.js';

const USAGE = `Usage: kiln completion bash|zsh

Prints a completion script for kiln's commands and flags. Load it in your shell's rc file:
  bash  source <(kiln completion bash)        (in ~/.bashrc)
  zsh   source <(kiln completion zsh)         (in ~/.zshrc, after compinit)`;

const CLIENT = ['--server', '--token'];

/** Each command's flags (besides --help), as its usage lists them. */
const FLAGS: Record<string, readonly string[]> = {
  agent: ['--server', '--token', '--token-file', '--labels', '--capacity', '--name', '--pool', '--work-dir', '--once', '--no-docker',
    '--docker-host', '--docker-network', '--git-cache', '--orphan-timeout', '--docker-ca-bundle', '--docker-volumes',
    '--env-passthrough', '--cache-local-max', '--cache-local-dir'],
  run: ['--job', '--input'],
  server: ['--stop-agents'],
  trigger: ['--ref', '--sha', '--env', '--input', '--wait', ...CLIENT],
  logs: ['--follow', '--job', ...CLIENT],
  status: ['--limit', ...CLIENT],
  artifacts: ['--download', ...CLIENT],
  secret: ['--repo', '--branches', '--events', '--environments', ...CLIENT],
  repo: CLIENT,
  user: ['--admin', '--email', '--group', '--no-password', '--data', ...CLIENT],
  token: ['--scope', '--repos', '--expires', '--user', '--all', ...CLIENT],
  audit: ['--actor', '--action', '--target', '--outcome', '--since', '--limit', '--json', ...CLIENT],
  approve: ['--wait', ...CLIENT],
  cancel: CLIENT,
  rerun: ['--failed', '--wait', ...CLIENT],
  retry: ['--wait', ...CLIENT],
};

/** Words that come first after the command. */
const ACTIONS: Record<string, readonly string[]> = {
  secret: ['set', 'list', 'delete'],
  repo: ['add', 'list'],
  user: ['add', 'list', 'role', 'delete'],
  token: ['create', 'list', 'revoke'],
  completion: ['bash', 'zsh'],
};

export interface CommandSummary {
  name: string;
  summary: string;
}

export async function main(argv: string[], commands: readonly CommandSummary[]): Promise<number> {
  const parsed = parseCommand(argv, {}, USAGE);
  if (!parsed) return 0;
  const [shell, ...extra] = parsed.positionals;
  if ((shell !== 'bash' && shell !== 'zsh') || extra.length > 0) throw new UsageError('completion: say bash or zsh', USAGE);
  console.log(shell === 'bash' ? bash(commands) : zsh(commands));
  return 0;
}

/** `case` arms of a shell function: one per command that has words, setting `$words`. */
function arms(table: Record<string, readonly string[]>, indent: string): string {
  return Object.entries(table).map(([name, words]) => `${indent}${name}) words="${words.join(' ')}" ;;`).join('\n');
}

function bash(commands: readonly CommandSummary[]): string {
  return `# kiln completion for bash: source <(kiln completion bash)
_kiln() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} help --help --version" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    case \${COMP_WORDS[1]} in
${arms(FLAGS, '      ')}
    esac
    COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
  elif [ "$COMP_CWORD" -eq 2 ]; then
    case \${COMP_WORDS[1]} in
${arms(ACTIONS, '      ')}
    esac
    [ -n "$words" ] && COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F _kiln kiln`;
}

function zsh(commands: readonly CommandSummary[]): string {
  const described = commands.map((c) => `    '${c.name}:${c.summary.replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`).join('\n');
  return `#compdef kiln
# kiln completion for zsh: source <(kiln completion zsh), after compinit
_kiln() {
  local -a commands
  local words_=""
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'kiln command' commands
    return
  fi
  if [[ $PREFIX == -* ]]; then
    case $words[2] in
${arms(FLAGS, '      ').replace(/words=/g, 'words_=')}
    esac
    compadd -- \${=words_} --help
    return
  fi
  if (( CURRENT == 3 )); then
    case $words[2] in
${arms(ACTIONS, '      ').replace(/words=/g, 'words_=')}
    esac
    if [[ -n $words_ ]]; then
      compadd -- \${=words_}
      return
    fi
  fi
  _files
}
compdef _kiln kiln`;
}
