/**
 * Fault injection for tests of real nodes: with the environment variable ANNAKV_FAULT_FILE
 * naming a file, each gossip tick an actor reads the file (if it exists), one fault a line;
 * a fault holds while its line is there. Without the variable nothing is read and nothing
 * is injected. The faults:
 * - `drop-remote-records`: RECORDS frames (gossip and anti-entropy repairs) to actors of
 *   other nodes are dropped, as a network that loses them would (docs/cluster.md,
 *   "Anti-entropy"). Handoffs, acknowledgements and membership are untouched.
 * - `drop-remote-gossip`: every gossip frame to actors of other nodes is dropped (records,
 *   handoffs and their acknowledgements, digests), as a network split between the nodes'
 *   actors would, while clients and membership still pass. Handoffs are sent again until
 *   acknowledged, so nothing is lost, but no causal round completes meanwhile and the
 *   stable time stands still (docs/causal-stability.md).
 * - `throw-in-gossip-tick`: the actor's gossip tick throws before it sends anything, as a
 *   store call at its memory limit may (the actor must contain it and carry on).
 * - `throw-on-key KEY`: running the tuples of a request that holds KEY throws, as a failing
 *   store call would (the request handler must answer every other request of the burst).
 * - `crash-actor TID`: actor TID's thread throws outside every handler at its next gossip
 *   tick and dies (the node must stop serving and exit, never hide it).
 * - `hang-actor TID`: actor TID's thread spins forever at its next gossip tick, as a runaway
 *   loop would: it answers nothing, not even a stop (the stop's watchdog must end the
 *   process with exit code 5).
 * Lines naming no fault above are ignored.
 */
import { existsSync, readFileSync } from "node:fs";
import { AnnaError, RequestType } from "../protocol/anna";
import type { FrameHead } from "../protocol/key-frames";
import type { FrameSink } from "../protocol/outlet-pool";
import { GossipFrameKind } from "./gossip-frame";
import type { RequestBurst, RequestServer } from "./request-servers";

export const FAULT_FILE_ENV = "ANNAKV_FAULT_FILE";
const DROP_REMOTE_RECORDS = "drop-remote-records";
const DROP_REMOTE_GOSSIP = "drop-remote-gossip";
const THROW_IN_GOSSIP_TICK = "throw-in-gossip-tick";
const THROW_ON_KEY = "throw-on-key ";
const CRASH_ACTOR = "crash-actor ";
const HANG_ACTOR = "hang-actor ";
/** A fault file longer than this is a mistake, not a list of faults: read no further. */
const FAULT_FILE_BYTES_MAX = 4096;

export class ActorFaults {
  private droppingRecords = false;
  private droppingGossip = false;
  /** The gossip tick throws (`throw-in-gossip-tick`). */
  throwsInGossipTick = false;
  /** Actors whose thread is to die (`crash-actor TID`). */
  private crashingActors = new Set<number>();
  /** Actors whose thread is to spin forever (`hang-actor TID`). */
  private hangingActors = new Set<number>();
  /** UTF-8 keys whose requests throw while their tuples run (`throw-on-key KEY`). */
  private poisonKeys: Buffer[] = [];
  dropped = 0;

  constructor(
    private readonly file: string | undefined,
    /** True for a gossip address of an actor of this node. */
    private readonly isLocal: (address: string) => boolean,
  ) {}

  /** Reads the fault file again (once a gossip tick). */
  refresh(): void {
    if (this.file === undefined) return;
    const lines = existsSync(this.file)
      ? readFileSync(this.file, "utf8")
          .slice(0, FAULT_FILE_BYTES_MAX)
          .split("\n")
          .map((line) => line.trim())
      : [];
    this.droppingRecords = lines.includes(DROP_REMOTE_RECORDS);
    this.droppingGossip = lines.includes(DROP_REMOTE_GOSSIP);
    this.throwsInGossipTick = lines.includes(THROW_IN_GOSSIP_TICK);
    this.crashingActors = actorsNamed(lines, CRASH_ACTOR);
    this.hangingActors = actorsNamed(lines, HANG_ACTOR);
    this.poisonKeys = lines
      .filter((line) => line.startsWith(THROW_ON_KEY))
      .map((line) => Buffer.from(line.slice(THROW_ON_KEY.length), "utf8"));
  }

  crashes(tid: number): boolean {
    return this.crashingActors.has(tid);
  }

  hangs(tid: number): boolean {
    return this.hangingActors.has(tid);
  }

  /** `sink` with the faults in force applied. */
  wrap(sink: FrameSink): FrameSink {
    if (this.file === undefined) return sink;
    return {
      send: (address, frame) => {
        const records = frame[0] === GossipFrameKind.RECORDS || frame[0] === GossipFrameKind.REMOTE_RECORDS;
        if ((this.droppingGossip || (this.droppingRecords && records)) && !this.isLocal(address)) {
          this.dropped++;
          return;
        }
        sink.send(address, frame);
      },
    };
  }

  /**
   * `server`, throwing before it runs anything when a request it is to run holds a poison
   * key (a request answered with an error of its own runs no tuple, so it passes).
   */
  wrapServer(server: RequestServer): RequestServer {
    if (this.file === undefined) return server;
    return {
      read: (frames, maxTuplesPerRequest) => server.read(frames, maxTuplesPerRequest),
      answer: (burst, heads) => {
        for (const head of heads) {
          const key = this.poisonKeyIn(burst, head);
          if (key !== undefined) throw new Error(`injected fault: throw-on-key ${key}`);
        }
        return server.answer(burst, heads);
      },
    };
  }

  private poisonKeyIn(burst: RequestBurst, head: FrameHead): string | undefined {
    if (this.poisonKeys.length === 0 || head.error !== AnnaError.NO_ERROR) return undefined;
    if (head.type !== RequestType.GET && head.type !== RequestType.PUT) return undefined;
    const { tuples } = burst;
    for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
      if (tuples.error[i] !== AnnaError.NO_ERROR) continue;
      const key = head.frame.subarray(tuples.keyStart[i], tuples.keyStart[i] + tuples.keyLength[i]);
      const poison = this.poisonKeys.find((candidate) => candidate.equals(key));
      if (poison !== undefined) return poison.toString("utf8");
    }
    return undefined;
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

/** The actor ids of the lines that start with `fault` ("crash-actor 1" → 1). */
function actorsNamed(lines: readonly string[], fault: string): Set<number> {
  return new Set(lines.filter((line) => line.startsWith(fault)).map((line) => Number(line.slice(fault.length))));
}
