// The Node.js flags an agent process is meant to run with; whatever starts agents passes them.

/**
 * `--max-semi-space-size=1`: V8's young generation keeps 1 MiB semi-spaces instead of growing
 * them to 16 MiB as jobs come and go, so an agent's memory stays flat over thousands of jobs
 * (about 30 MiB less; see scripts/bench/agent-memory.ts). An agent allocates little, so the
 * more frequent young collections cost nothing one can measure. By hand:
 * `NODE_OPTIONS=--max-semi-space-size=1 kiln agent …`.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
