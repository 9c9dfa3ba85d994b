/**
 * Full replication (--local-replication = threads): a write to one actor reaches every
 * other actor by gossip, and concurrent writes on two actors converge to their merge.
 * Convergence is awaited by polling with a deadline, never by sleeping.
 */
import { encodeSet } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import { AnnaError, KeyResponse, RequestType } from "../../src/protocol/anna";
import { startNodeProcess, NodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const THREADS = 3;

describe.each([
  ["wasm", PORT_OFFSETS.replicatedWasm],
  ["ts", PORT_OFFSETS.replicatedTs],
] as const)("a fully replicated node (%s engine)", (engine, portOffset) => {
  let node: NodeProcess;
  let peer: RawPeer;
  const actorAddress = (tid: number) => `tcp://127.0.0.1:${6200 + portOffset + tid}`;

  async function call(tid: number, type: RequestType, key: string, payload?: Uint8Array): Promise<KeyResponse> {
    const tuple = payload === undefined ? { key } : { key, lattice_type: LatticeType.SET, payload };
    return peer.request(actorAddress(tid), type, [tuple]);
  }

  async function setAt(tid: number, key: string): Promise<string[] | undefined> {
    const [tuple] = (await call(tid, RequestType.GET, key)).tuples;
    if (tuple.error === AnnaError.KEY_DNE) return undefined;
    expect(tuple.error).toBe(AnnaError.NO_ERROR);
    // SetValue elements: 0a <len> <bytes>, canonical order.
    const values: string[] = [];
    const payload = tuple.payload!;
    for (let i = 0; i < payload.length; i += 2 + payload[i + 1])
      values.push(Buffer.from(payload.subarray(i + 2, i + 2 + payload[i + 1])).toString());
    return values;
  }

  beforeAll(async () => {
    node = await startNodeProcess({
      portOffset,
      threads: THREADS,
      engine,
      localReplication: THREADS,
      gossipPeriodMs: 20,
    });
    peer = await RawPeer.open();
  });

  afterAll(async () => {
    peer?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("a write to one actor is read from every other after gossip", async () => {
    const put = await call(0, RequestType.PUT, "replicated", encodeSet(["v"]));
    expect(put.tuples[0].error).toBe(AnnaError.NO_ERROR);
    for (let tid = 1; tid < THREADS; tid++) {
      await waitFor(
        async () => JSON.stringify(await setAt(tid, "replicated")) === '["v"]',
        10_000,
        () => `actor ${tid} never saw the write`,
      );
    }
  });

  it("concurrent writes on different actors converge to their merge everywhere", async () => {
    // One reply socket allows one pending receive, so the writes are sent one after another;
    // each lands on a different replica before gossip can tell the others.
    for (let tid = 0; tid < THREADS; tid++) await call(tid, RequestType.PUT, "converge", encodeSet([`from-${tid}`]));
    const expected = JSON.stringify(["from-0", "from-1", "from-2"]);
    for (let tid = 0; tid < THREADS; tid++) {
      await waitFor(
        async () => JSON.stringify(await setAt(tid, "converge")) === expected,
        10_000,
        () => `actor ${tid} did not converge`,
      );
    }
  });
});
