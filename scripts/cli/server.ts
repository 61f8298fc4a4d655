// `kiln server`: the daemon (what `npm start` runs).
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { runServerProcess } from '../../server/main.js';
import { parseCommand, UsageError } from './args.js';

// Required, not imported: see server/hub/hub.ts.
const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');

const USAGE = `Usage: kiln server [--stop-agents]

Starts the kiln server with kiln.yml (or $KILN_CONFIG). Ctrl-C or SIGTERM stops it; its pool
agents keep running and rejoin its next start (the last log line says how many were left).
  --stop-agents            stop the pool agents with the server, for a server going away for
                           good: each drains, and a job still running after 10 s is killed
                           (also KILN_STOP_AGENTS=1)

The environment:
  KILN_HOST, KILN_PORT     where to listen (default 127.0.0.1:8080)
  KILN_DATA                the data folder (default ./.kiln)
  KILN_URL                 how agents and links reach the server
  KILN_ADMIN_TOKEN         the admin token (default: made at first start in <data>/admin.token)
  KILN_AGENT_TOKEN         the agent token (default: <data>/agent.token)
  KILN_SECRET_KEY_FILE     the key secrets are sealed with (default: <data>/secret.key)
  KILN_LOG_LEVEL           debug, info (default), warn, error`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { 'stop-agents': { type: 'boolean' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw new UsageError(`server: unexpected argument ${parsed.positionals[0]}`, USAGE);
  try {
    return await runServerProcess({
      env: process.env,
      cwd: process.cwd(),
      cpus: availableParallelism(),
      makeLogger: (level) => pino({ level, base: { pid: process.pid } }),
      stopAgents: parsed.values['stop-agents'] === true || process.env.KILN_STOP_AGENTS === '1',
      // Pool agents run the script this server was started with: tsc's output or the bundle.
      ...(process.argv[1] ? { kilnScript: process.argv[1] } : {}),
    });
  } catch (error) {
    console.error(`kiln server: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
