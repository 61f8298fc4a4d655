// Docker in tests: a suite that needs an engine skips with a one-line reason when none
// answers, and fails instead when KILN_TEST_REQUIRE_DOCKER=1 (as in CI).
import { execFileSync } from 'node:child_process';

let answer: string | null | undefined;

/** Why Docker cannot be used here, or null when the engine answers. */
export function dockerUnavailable(): string | null {
  if (answer !== undefined) return answer;
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    answer = null;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0];
    answer = `no Docker engine answers (${stderr || (error as Error).message})`;
  }
  return answer;
}

/**
 * For `describe.skipIf(skipDocker())`: true (skip, with the reason printed once) when no
 * engine answers; throws when KILN_TEST_REQUIRE_DOCKER=1 so that CI cannot skip silently.
 */
export function skipDocker(): boolean {
  const why = dockerUnavailable();
  if (why === null) return false;
  if (process.env.KILN_TEST_REQUIRE_DOCKER === '1') throw new Error(`KILN_TEST_REQUIRE_DOCKER=1 but ${why}`);
  console.warn(`skipping Docker tests: ${why}`);
  return true;
}
