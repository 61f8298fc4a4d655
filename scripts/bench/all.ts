// Runs every benchmark in turn, each in its own process so their figures do not mix. A name
// whose script is not built here is skipped (some benchmarks come from other branches).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benches = [
  'idle-rss', 'run-latency', 'run-burst', 'trigger-path', 'fleet', 'dispatch-latency', 'throughput', 'log-ingest',
  'agent-memory', 'checkout', 'bursty-day', 'cache-npm',
];
const needDocker = ['container-overhead'];
const dockerAnswers = spawnSync('docker', ['version'], { stdio: 'ignore' }).status === 0;
let failed = 0;
for (const name of [...benches, ...needDocker]) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (!existsSync(script)) {
    console.log(`${name}: skipped (not in this tree)`);
    continue;
  }
  if (needDocker.includes(name) && !dockerAnswers) {
    console.log(`${name}: skipped (no Docker engine answers)`);
    continue;
  }
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
