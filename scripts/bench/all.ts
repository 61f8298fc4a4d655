// Runs every benchmark in turn, each in its own process so their figures do not mix.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['idle-rss', 'dispatch-latency', 'throughput', 'log-ingest', 'bursty-day'];
const needDocker = ['container-overhead'];
const dockerAnswers = spawnSync('docker', ['version'], { stdio: 'ignore' }).status === 0;
let failed = 0;
for (const name of [...benches, ...needDocker]) {
  if (needDocker.includes(name) && !dockerAnswers) {
    console.log(`${name}: skipped (no Docker engine answers)`);
    continue;
  }
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url))], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
