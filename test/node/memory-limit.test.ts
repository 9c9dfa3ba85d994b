/**
 * Replicas at the memory limit (issue #14), as the reviewer reproduced it: two actors that
 * replicate every key (--local-replication 2) with 4 MiB stores, and 200 LWW PUTs of 60 KB,
 * each sent straight to one actor's request port, the two in turn: far more than a store
 * holds. Afterwards every acknowledged write is read straight from each actor. A write
 * acknowledged by one replica must be on the other too, or be owed there: counted by its
 * degraded-replica gauge (mergeKeysOwed in /status, annakv_merge_keys_owed in /metrics).
 * Then the same writes with gossip held back until both stores are full, where the
 * replicas cannot take all of each other's writes and must say so.
 */
import { encodeLww } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import { AnnaError, KeyResponse, RequestType } from "../../src/protocol/anna";
import { metricsPort } from "../../src/protocol/ports";
import { execFileSync } from "node:child_process";
import { CLI_PATH, NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.memoryLimit;
const THREADS = 2;
const STORE_MEMORY_BYTES = 4 * 1024 * 1024;
const PUT_COUNT = 200;
const VALUE_BYTES = 60 * 1024;

interface ActorSurvey {
  tid: number;
  /** Acknowledged keys this actor does not hold (or holds with another value). */
  missing: number;
  /** Its degraded-replica gauge. */
  owed: number;
  valuesDropped: number;
}

describe.each(["wasm", "ts"] as const)("two replicas at a 4 MiB memory limit (%s engine)", (engine) => {
  let node: NodeProcess;
  let peer: RawPeer;
  const actorAddress = (tid: number) => `tcp://127.0.0.1:${6200 + portOffset + tid}`;

  async function call(tid: number, type: RequestType, key: string, payload?: Uint8Array): Promise<KeyResponse> {
    const tuple = payload === undefined ? { key } : { key, lattice_type: LatticeType.LWW, payload };
    return peer.request(actorAddress(tid), type, [tuple]);
  }

  async function actorCounters(): Promise<
    Array<{ tid: number; counters: { mergeKeysOwed: number; mergeValuesDropped: number } }>
  > {
    const status = await (await fetch(`http://127.0.0.1:${metricsPort(portOffset)}/status`)).json();
    return status.actors;
  }

  /** Reads every acknowledged key from each actor, then the actors' degraded-replica gauges. */
  async function survey(acknowledged: Map<string, Uint8Array>): Promise<ActorSurvey[]> {
    const surveys: ActorSurvey[] = [];
    for (let tid = 0; tid < THREADS; tid++) {
      let missing = 0;
      for (const [key, payload] of acknowledged) {
        const [tuple] = (await call(tid, RequestType.GET, key)).tuples;
        if (
          tuple.error !== AnnaError.NO_ERROR ||
          Buffer.compare(Buffer.from(tuple.payload!), Buffer.from(payload)) !== 0
        )
          missing++;
      }
      surveys.push({ tid, missing, owed: 0, valuesDropped: 0 });
    }
    for (const { tid, counters } of await actorCounters()) {
      surveys[tid].owed = counters.mergeKeysOwed;
      surveys[tid].valuesDropped = counters.mergeValuesDropped;
    }
    return surveys;
  }

  async function start(gossipPeriodMs: number): Promise<void> {
    node = await startNodeProcess({
      portOffset,
      threads: THREADS,
      engine,
      localReplication: THREADS,
      gossipPeriodMs,
      extraArgs: [`--max-store-memory-bytes=${STORE_MEMORY_BYTES}`],
    });
  }

  /** The reproduction's writes: PUT_COUNT values of VALUE_BYTES, each to one actor, the actors in turn; returns the acknowledged ones. */
  async function putInTurn(prefix: string): Promise<{ acknowledged: Map<string, Uint8Array> }> {
    const acknowledged = new Map<string, Uint8Array>();
    let refused = 0;
    for (let i = 0; i < PUT_COUNT; i++) {
      const key = `${prefix}-${i}`;
      const payload = encodeLww({ timestamp: i + 1, value: Buffer.alloc(VALUE_BYTES, 97 + (i % 26)) });
      const [tuple] = (await call(i % THREADS, RequestType.PUT, key, payload)).tuples;
      if (tuple.error === AnnaError.NO_ERROR) acknowledged.set(key, payload);
      else {
        // OUT_OF_MEMORY, which Anna's errors can only call LATTICE.
        expect(tuple.error).toBe(AnnaError.LATTICE);
        refused++;
      }
    }
    // 12 MB of writes into 4 MiB stores: the stores fill, and then refuse clients' writes.
    expect(acknowledged.size).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    return { acknowledged };
  }

  /** Waits until no actor misses more acknowledged writes than it reports owed; returns the last survey. */
  async function missingAllOwed(acknowledged: Map<string, Uint8Array>): Promise<ActorSurvey[]> {
    let last: ActorSurvey[] = [];
    await waitFor(
      async () => {
        last = await survey(acknowledged);
        return last.every(({ missing, owed }) => missing <= owed);
      },
      30_000,
      () => `acknowledged ${acknowledged.size} of ${PUT_COUNT}; missing more than owed: ${JSON.stringify(last)}`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort(portOffset)}/metrics`)).text();
    for (const { tid, owed } of last) expect(metrics).toContain(`annakv_merge_keys_owed{tid="${tid}"} ${owed}`);
    return last;
  }

  beforeAll(async () => {
    peer = await RawPeer.open();
  });

  afterEach(async () => {
    expect(await node?.stop()).toBe(0);
  });

  afterAll(() => peer?.close());

  it("every acknowledged write is on both replicas, or counted as owed by the one without it", async () => {
    // The node's default gossip period, as in the reproduction.
    await start(100);
    const { acknowledged } = await putInTurn("in-turn");
    await missingAllOwed(acknowledged);
  }, 60_000);

  it("replicas that both fill up before they gossip owe what does not fit, say so, and keep it for a retry", async () => {
    // No gossip while the writes go on: each replica fills with its own clients' writes.
    await start(4000);
    const { acknowledged } = await putInTurn("before-gossip");
    const surveys = await missingAllOwed(acknowledged);
    for (const { owed, valuesDropped } of surveys) {
      expect(owed).toBeGreaterThan(0);
      // 16 MiB of backlog holds every owed 60 KB value.
      expect(valuesDropped).toBe(0);
    }
    await waitFor(
      () => node.output().includes("is a degraded replica"),
      10_000,
      () => `no degraded replica logged:\n${node.output()}`,
    );
    const printed = execFileSync(process.execPath, [CLI_PATH, "status", `--port-offset=${portOffset}`], {
      encoding: "utf8",
    });
    for (const { tid, owed } of surveys)
      expect(printed).toContain(`degraded replica: actor ${tid} owes ${owed} key(s)`);
  }, 60_000);
});
