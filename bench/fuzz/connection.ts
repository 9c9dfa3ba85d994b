/**
 * One attack connection: connect on loopback, write the chunks one write each, stay open
 * for the hold time, then end and wait for the close. Never throws: the outcome is what
 * the tallies need.
 */
import net from "node:net";

/** closed-by-node: the node closed it before we ended it (a protocol error, mostly); completed: we ended it. */
export type ConnectionOutcome = "closed-by-node" | "completed" | "refused";

/** A connection not closed this long after it started is cut (the node may be stalled; the probes tell). */
const CONNECTION_DEADLINE_MS = 5000;

export function runConnection(
  host: string,
  port: number,
  chunks: readonly Uint8Array[],
  holdMs: number,
  reads: boolean,
): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let ended = false;
    let refused = false;
    const deadline = setTimeout(() => socket.destroy(), CONNECTION_DEADLINE_MS);
    const closed = new Promise<void>((onClose) =>
      socket.once("close", () => {
        clearTimeout(deadline);
        onClose();
        resolve(refused ? "refused" : ended ? "completed" : "closed-by-node");
      }),
    );
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") refused = true;
    });
    if (reads) socket.on("data", () => undefined);
    socket.once("connect", async () => {
      socket.setNoDelay(true);
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        await Promise.race([new Promise((written) => socket.write(chunk, written)), closed]);
      }
      if (holdMs > 0) await Promise.race([new Promise((held) => setTimeout(held, holdMs)), closed]);
      if (socket.destroyed) return;
      ended = true;
      // Half-close: the node reads to the end of what was sent, then sees the end of the stream.
      // A socket that never reads would never see the node's end in turn: it is cut instead.
      if (reads) socket.end();
      else socket.destroy();
    });
  });
}
