// Frames written to one socket in one event-loop turn leave in one write. Why: in a burst a
// dashboard hears dozens of events per turn, and each `ws.send` on its own costs a writev
// system call, which the 200-run burst (scripts/bench/run-burst.ts) showed as the server's
// largest single cost. The socket is corked at its first frame of the turn and uncorked when
// the turn ends (setImmediate), so a frame waits at most for the rest of the turn it was sent
// in. For /api/events only: agents' job frames must not wait for a turn (server/hub/hub.ts).
import type { Duplex } from 'node:stream';

/** Returns `beforeSend`, to call before each frame written to `socket`. */
export function corkPerTurn(socket: Duplex): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return () => {
    if (corked || socket.destroyed) return;
    corked = true;
    socket.cork();
    setImmediate(uncork);
  };
}
