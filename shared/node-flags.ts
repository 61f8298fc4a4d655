// The Node.js flags kiln's processes are meant to run with. Whatever starts them passes them:
// `npm start` and Dockerfile.server for the server, the pools and Dockerfile.agent for agents.

/**
 * `--max-semi-space-size=1`: V8's young generation keeps 1 MiB semi-spaces instead of growing
 * them to 16 MiB as jobs come and go, so an agent's memory stays flat over thousands of jobs
 * (about 30 MiB less; see scripts/bench/agent-memory.ts). An agent allocates little, so the
 * more frequent young collections cost nothing one can measure. By hand:
 * `NODE_OPTIONS=--max-semi-space-size=1 kiln agent …`.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * The same flag for the server: about 5 MiB less while idle (scripts/bench/idle-rss.ts), at no
 * cost in runs/s one can measure (scripts/bench/fleet.ts). package.json's `start` script and
 * Dockerfile.server spell it out; by hand: `node --max-semi-space-size=1 dist/bundle/kiln.js server`.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
