#!/usr/bin/env node
// The `kiln` command: dispatches to one module per subcommand, loaded on demand so that
// `kiln validate` does not pay for the server's start-up.
import { KILN_VERSION } from '../shared/version.js';

interface Command {
  summary: string;
  load: () => Promise<{ main(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  server: { summary: 'start the kiln server (what `npm start` runs)', load: () => import('./cli/server.js') },
  validate: { summary: 'check a pipeline.yml offline', load: () => import('./cli/validate.js') },
  trigger: { summary: 'start a run of a repo through the server', load: () => import('./cli/trigger.js') },
  logs: { summary: "print a run's or a job's log (--follow to stream)", load: () => import('./cli/logs.js') },
  status: { summary: 'repos and their last runs', load: () => import('./cli/status.js') },
  artifacts: { summary: "list a run's artifacts (--download to fetch and unpack them)", load: () => import('./cli/artifacts.js') },
  repo: { summary: 'register a repo (a folder or a URL), or list the registered ones', load: () => import('./cli/repo.js') },
  secret: { summary: "set, list or delete the server's or a repo's secrets", load: () => import('./cli/secret.js') },
  user: { summary: 'add, list and delete users, and give them roles per repo', load: () => import('./cli/user.js') },
  token: { summary: 'create, list and revoke API tokens (scoped, expiring)', load: () => import('./cli/token.js') },
  audit: { summary: "the server's audit log: who changed what, when, from where", load: () => import('./cli/audit.js') },
  schema: { summary: 'print the JSON Schema of pipeline.yml', load: () => import('./cli/schema.js') },
  agent: { summary: 'connect to a server and run its jobs', load: () => import('./cli/agent.js') },
  run: { summary: "run the current folder's pipeline locally", load: () => import('./cli/run.js') },
  approve: { summary: 'let a job that waits for approval go on', load: async () => ({ main: (await import('./cli/control.js')).approve }) },
  cancel: { summary: 'cancel a run', load: async () => ({ main: (await import('./cli/control.js')).cancel }) },
  rerun: { summary: 'run an ended run again as its next attempt (--failed: only what failed)', load: async () => ({ main: (await import('./cli/control.js')).rerun }) },
  retry: { summary: 'run one job of an ended run again, with what needs it', load: async () => ({ main: (await import('./cli/control.js')).retry }) },
  completion: {
    summary: 'print a bash or zsh completion script (source <(kiln completion bash))',
    load: async () => {
      const { main } = await import('./cli/completion.js');
      return { main: (argv) => main(argv, Object.entries(COMMANDS).map(([name, c]) => ({ name, summary: c.summary }))) };
    },
  },
};

const USAGE = `kiln ${KILN_VERSION} — a self-hosted CI/CD runner

Usage: kiln <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

Run \`kiln <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(KILN_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`kiln: unknown command "${name}" (run \`kiln --help\`)`);
    return 2;
  }
  return (await command.load()).main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`kiln: ${error instanceof Error ? error.message : String(error)}`);
    const usage = (error as { usage?: string }).usage;
    if (usage) console.error(`\n${usage}`);
    process.exitCode = error instanceof Error && error.name === 'UsageError' ? 2 : 1;
    // ClientError and UsageError carry a one-line message; anything else is a bug worth a trace.
    if (error instanceof Error && !['UsageError', 'ClientError'].includes(error.name) && process.env.KILN_DEBUG) console.error(error.stack);
  },
);
