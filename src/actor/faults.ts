/**
 * Fault injection for tests of the cluster (docs/cluster.md, "Anti-entropy"): with the
 * environment variable ANNAKV_FAULT_FILE naming a file, each gossip tick an actor reads
 * whether the file exists and holds `drop-remote-records`; while it does, RECORDS frames
 * (gossip and anti-entropy repairs) to actors of other nodes are dropped, as a network
 * that loses them would. Handoffs, acknowledgements and membership are untouched. Without
 * the variable nothing is read and nothing is dropped.
 */
import { existsSync, readFileSync } from "node:fs";
import type { FrameSink } from "../protocol/outlet-pool";
import { GossipFrameKind } from "./gossip-frame";

export const FAULT_FILE_ENV = "ANNAKV_FAULT_FILE";
const DROP_REMOTE_RECORDS = "drop-remote-records";

export class GossipFaults {
  private dropping = false;
  dropped = 0;

  constructor(
    private readonly file: string | undefined,
    /** True for a gossip address of an actor of this node. */
    private readonly isLocal: (address: string) => boolean,
  ) {}

  /** Reads the fault file again (once a gossip tick). */
  refresh(): void {
    if (this.file === undefined) return;
    this.dropping = existsSync(this.file) && readFileSync(this.file, "utf8").trim() === DROP_REMOTE_RECORDS;
  }

  /** `sink` with the faults in force applied. */
  wrap(sink: FrameSink): FrameSink {
    if (this.file === undefined) return sink;
    return {
      send: (address, frame) => {
        const records = frame[0] === GossipFrameKind.RECORDS || frame[0] === GossipFrameKind.REMOTE_RECORDS;
        if (this.dropping && records && !this.isLocal(address)) {
          this.dropped++;
          return;
        }
        sink.send(address, frame);
      },
    };
  }
}

/** `sink`, counting the bytes of every frame sent through it (gossip's cost, in /metrics). */
export function countingSink(sink: FrameSink, onBytes: (bytes: number) => void): FrameSink {
  return {
    send: (address, frame) => {
      onBytes(frame.length);
      sink.send(address, frame);
    },
  };
}
