// `kiln agent`: connects to a kiln server and runs the jobs it hands over, until drained or stopped.
import { homedir, hostname } from 'node:os';
import { loadAgentConfig } from '../../agent/config.js';
import { KilnError } from '../../shared/errors.js';
import { parseCommand } from './args.js';

const USAGE = `Usage: kiln agent [options]

Connects to a kiln server and runs the jobs it hands over (as host processes).

Options (each also read from the environment variable shown):
  --server URL      the server, e.g. http://ci:8080                      KILN_SERVER (required)
  --token TOKEN     the server's agent token (<data>/agent.token)        KILN_AGENT_TOKEN (required)
  --labels A,B      labels jobs can ask for with runs-on (default linux) KILN_LABELS
  --capacity N      jobs run at once (default 1)                         KILN_CAPACITY
  --name NAME       how the server shows this agent (default host-xxxx)  KILN_AGENT_NAME
  --pool POOL       the pool that started this agent (none by hand)      KILN_POOL
  --work-dir DIR    workspaces, git cache and log spool (~/.kiln-agent)  KILN_AGENT_DIR
  --once            take one job, finish it, and exit

Logs go to stderr as JSON lines (KILN_LOG_LEVEL, default info). SIGTERM or Ctrl-C drains:
no new jobs, the running ones finish, then the agent exits 0; a second signal cancels them.`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, {
    server: { type: 'string' },
    token: { type: 'string' },
    labels: { type: 'string' },
    capacity: { type: 'string' },
    name: { type: 'string' },
    pool: { type: 'string' },
    'work-dir': { type: 'string' },
    once: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) {
    console.error(`kiln agent: unexpected argument "${parsed.positionals[0]}" (run \`kiln agent --help\`)`);
    return 2;
  }
  const { 'work-dir': workDir, ...flags } = parsed.values;
  try {
    const config = loadAgentConfig({ flags: { ...flags, workDir }, env: process.env, cwd: process.cwd(), homeDir: homedir() || null, hostname: hostname() });
    const { runAgent } = await import('../../agent/main.js');
    return await runAgent({ config, env: process.env });
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    console.error(`kiln agent: ${error.message}`);
    return error.code === 'bad_input' ? 2 : 1;
  }
}
