// A step's process group inside the container: the wrapper that records it, the command that stops it.
import type Docker from 'dockerode';
import { execCommand } from './exec-command.js';

/**
 * Prepended to a step's command: `sh -c STEP_WRAPPER kiln-step <pgid file> <shell…> <script>`.
 * The runtime (runc) starts every `docker exec` process as a session, and so process group,
 * leader: `$$` names the group every process of the step stays in unless it leaves it
 * (setsid), which is what lets a stop reach background children. stdin is /dev/null, as for
 * host steps.
 */
export const STEP_WRAPPER = 'echo $$ > "$1"; shift; exec "$@" </dev/null';

/**
 * Run as root with `<pgid file> <grace in tenths of a second>`. Waits up to 1 s for the
 * wrapper to have written the file, sends TERM to the group, polls until the group is empty
 * and sends KILL to what is left after the grace. Builtins only (dash, busybox ash, bash):
 * `kill -SIG -PGID`, without `--`, is the one form all of them accept. Were the step not a
 * group leader (another runtime), the group calls fail and its main process is signalled.
 */
const STOP_SCRIPT = `f=$1; n=$2; i=0
while [ ! -s "$f" ]; do i=$((i+1)); [ $i -gt 20 ] && exit 0; sleep 0.05; done
pg=$(cat "$f")
sig() { kill -$1 -$pg 2>/dev/null || kill -$1 $pg 2>/dev/null; }
sig TERM || exit 0
i=0
while sig 0; do
  i=$((i+1)); if [ $i -gt $n ]; then sig KILL; exit 0; fi
  sleep 0.1
done`;

/**
 * Stops the step whose wrapper wrote `pgidFile`: TERM, then KILL after `graceMs`. Resolves when
 * the group is empty or has been sent KILL, at the latest `graceMs` + 3 s later, with null or a
 * one-line problem for the log; never rejects (the container's removal is the last resort).
 */
export async function stopStepGroup(container: Docker.Container, pgidFile: string, graceMs: number): Promise<string | null> {
  const ticks = String(Math.max(1, Math.ceil(graceMs / 100)));
  try {
    const result = await execCommand(container, ['sh', '-c', STOP_SCRIPT, 'kiln-stop', pgidFile, ticks], {
      user: '0', timeoutMs: graceMs + 3000,
    });
    return result.exitCode === 0 ? null : `stop command ended with ${result.exitCode ?? 'a timeout'}: ${result.output.trim()}`;
  } catch (err) {
    return `cannot stop the step: ${err instanceof Error ? err.message : String(err)}`;
  }
}
