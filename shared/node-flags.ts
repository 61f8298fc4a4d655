// The Node.js flags kiln's processes are meant to run with. Whatever starts them passes them:
// `npm start` and Dockerfile.server for the server, the pools and Dockerfile.agent for agents.

/**
 * `--max-semi-space-size=1`: V8's young generation keeps 1 MiB semi-spaces instead of growing
 * them to 16 MiB as jobs come and go (about 30 MiB less). `--heap-growing-percent=20`: the old
 * generation may grow 20% past what the last full collection kept before the next one, where
 * V8's default lets a small heap double or more; an agent's live heap is ~7 MiB, so a full
 * collection is cheap, and its memory stays flat over a thousand jobs (54 → 68 MiB instead of
 * 54 → 77 MiB and climbing; scripts/bench/agent-memory.ts). By hand:
 * `NODE_OPTIONS="--max-semi-space-size=1 --heap-growing-percent=20" kiln agent …`.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--heap-growing-percent=20'];

/**
 * The same flag for the server: 3–5 MiB less while idle (scripts/bench/idle-rss.ts), for more
 * frequent young collections under load: 5–13% fewer runs/s in the fleet burst, A/B with
 * `BENCH_SERVER_NODE_ARGS=--max-semi-space-size=16` (scripts/bench/fleet.ts). package.json's
 * `start` script and Dockerfile.server spell it out; by hand:
 * `node --max-semi-space-size=1 dist/bundle/kiln.js server`.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
