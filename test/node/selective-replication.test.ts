/**
 * Selective replication at a real node (child process, worker threads, ZeroMQ on
 * 127.0.0.1): a skewed load makes the hot key's replica set grow to every actor, and a
 * light load afterwards makes it shrink back to the default. Every write is a unique SET element,
 * so "no write lost" is checked exactly: the final value holds every acknowledged element.
 * Routing answers keep the key's primary first throughout, and actors that are not
 * replicas answer WRONG_THREAD with `invalidate`.
 */
import { execFileSync } from "node:child_process";
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeSet, encodeSet } from "../../src/lattices";
import {
  AnnaError,
  decodeKeyAddressResponse,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  KeyResponse,
  KeyTuple,
  RequestType,
} from "../../src/protocol/anna";
import type { NodeStatus } from "../../src/node/metrics";
import { CLI_PATH, startNodeProcess, NodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const THREADS = 3;
const HOT_KEY = "hot";
const HEAVY_WRITERS = 4;
/** The light phase writes well under --hot-key-min-ops-per-sec, so the key cools down. */
const LIGHT_WRITE_INTERVAL_MS = 100;

// The partitioned default exercises the gossip of noted replicated writes and the Wasm
// store; a default of 2 exercises the gossip of drained dirty records and the TS store.
describe.each([
  ["wasm", 1, PORT_OFFSETS.hotKeys],
  ["ts", 2, PORT_OFFSETS.hotKeysTs],
] as const)(
  "selective replication of a hot key (%s engine, default factor %i)",
  (engine, defaultFactor, portOffset) => {
    let node: NodeProcess;
    let peer: RawPeer;
    let requestCounter = 0;
    const actorAddress = (tid: number) => `tcp://127.0.0.1:${6200 + portOffset + tid}`;
    const routingAnswers: string[][] = [];

    async function call(tid: number, type: RequestType, tuple: KeyTuple): Promise<KeyResponse> {
      const requestId = `r-${++requestCounter}`;
      await peer.send(
        actorAddress(tid),
        encodeKeyRequest({ type, tuples: [tuple], response_address: peer.replyAddress, request_id: requestId }),
      );
      for (;;) {
        const response = decodeKeyResponse(await peer.receive());
        if (response.response_id === requestId) return response;
      }
    }

    async function metrics(): Promise<string> {
      return (await fetch(`http://127.0.0.1:${6400 + portOffset}/metrics`)).text();
    }

    async function status(): Promise<NodeStatus> {
      return (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json() as Promise<NodeStatus>;
    }

    /** Asks the routing service (raw protocol) which actors hold the hot key. */
    async function replicasOfHotKey(): Promise<string[]> {
      const requestId = `route-${++requestCounter}`;
      await peer.send(
        node.routingAddress,
        encodeKeyAddressRequest({ response_address: peer.replyAddress, keys: [HOT_KEY], request_id: requestId }),
      );
      for (;;) {
        const response = decodeKeyAddressResponse(await peer.receive());
        if (response.response_id !== requestId) continue;
        routingAnswers.push(response.addresses[0].ips);
        return response.addresses[0].ips;
      }
    }

    beforeAll(async () => {
      node = await startNodeProcess({
        portOffset,
        threads: THREADS,
        engine,
        localReplication: defaultFactor,
        gossipPeriodMs: 20,
        // Ten windows (2 s) of cooldown: the CLI run below blocks this process's writers for a while, which must not cool the key.
        extraArgs: [
          "--hot-key-window-ms=200",
          "--hot-key-min-ops-per-sec=100",
          "--hot-key-threshold=0.5",
          "--hot-key-cooldown-windows=10",
        ],
      });
      peer = await RawPeer.open();
    });

    afterAll(async () => {
      peer?.close();
      const code = await node?.stop();
      if (code !== 0) console.log(node.output());
      expect(code).toBe(0);
    });

    it("grows the hot key's replica set under load, shrinks it when it cools, and loses no write", async () => {
      const acknowledged: string[] = [];
      const clients = Array.from(
        { length: HEAVY_WRITERS },
        () => new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 2000, maxAttempts: 10 }),
      );
      let phase: "heavy" | "light" | "done" = "heavy";
      const write = async (client: AnnaClient, element: string) => {
        await client.addToSet(HOT_KEY, [element]);
        acknowledged.push(element);
      };
      const heavyWriters = clients.map(async (client, writer) => {
        for (let i = 0; phase === "heavy"; i++) await write(client, `w${writer}-${i}`);
      });
      try {
        // Grows to every actor.
        await waitFor(
          async () => (await replicasOfHotKey()).length === THREADS,
          30_000,
          () => `hot key never replicated: ${JSON.stringify(routingAnswers.at(-1))}`,
        );
        expect((await status()).hotKeys).toEqual([{ key: HOT_KEY, replicas: THREADS, nodes: 1 }]);
        expect(await metrics()).toMatch(/^annakv_hot_keys 1$/m);
        const printed = execFileSync(process.execPath, [CLI_PATH, "status", `--port-offset=${portOffset}`], {
          encoding: "utf8",
        });
        expect(printed).toContain(`hot keys: "${HOT_KEY}" on ${THREADS} actors`);
        // Every actor now takes writes of the key (a non-replica would answer WRONG_THREAD);
        // these land on each replica, so the shrink below must hand each one's writes over.
        for (let tid = 0; tid < THREADS; tid++) {
          for (let i = 0; i < 20; i++) {
            const element = `direct-${tid}-${i}`;
            const [tuple] = (
              await call(tid, RequestType.PUT, {
                key: HOT_KEY,
                lattice_type: LatticeType.SET,
                payload: encodeSet([element]),
              })
            ).tuples;
            expect(tuple.error ?? AnnaError.NO_ERROR).toBe(AnnaError.NO_ERROR);
            acknowledged.push(element);
          }
        }
        phase = "light";
        await Promise.all(heavyWriters);
        const lightWriter = (async () => {
          for (let i = 0; phase === "light"; i++) {
            await write(clients[0], `light-${i}`);
            await new Promise((resolve) => setTimeout(resolve, LIGHT_WRITE_INTERVAL_MS));
          }
        })();
        // Shrinks back to the default, and the other actors drop their copies once handed off.
        await waitFor(
          async () => (await replicasOfHotKey()).length === defaultFactor,
          30_000,
          () => `hot key never cooled down: ${JSON.stringify(routingAnswers.at(-1))}`,
        );
        await waitFor(
          async () => {
            const actors = (await status()).actors;
            return (
              actors.reduce((sum, actor) => sum + actor.store.keyCount, 0) === defaultFactor &&
              actors.reduce((sum, actor) => sum + actor.counters.keysDropped, 0) === THREADS - defaultFactor
            );
          },
          20_000,
          () => "the former replicas did not drop the key",
        );
        phase = "done";
        await lightWriter;
      } finally {
        phase = "done";
        await Promise.allSettled(heavyWriters);
        // Open clients would keep Jest from exiting when an assertion above failed.
        await Promise.all(clients.map((client) => client.close()));
      }
      expect((await status()).hotKeys).toEqual([]);
      const text = await metrics();
      expect(text).toMatch(/^annakv_hot_keys 0$/m);
      const dropped = [...text.matchAll(/^annakv_keys_dropped_total\{tid="\d+"\} (\d+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
      expect(dropped).toBe(THREADS - defaultFactor);
      // Once every actor has reported seeing the cool-down, the key's entry is settled away on each.
      let factorEntries: number[] = [];
      await waitFor(
        async () => {
          factorEntries = (await status()).actors.map((actor) => actor.counters.replicationFactorEntries);
          return factorEntries.length === THREADS && factorEntries.every((entries) => entries === 0);
        },
        20_000,
        () => `factor entries left per actor: ${JSON.stringify(factorEntries)}`,
      );

      // The primary never changed: every routing answer starts with it.
      const [primary] = routingAnswers[0];
      for (const answer of routingAnswers) expect(answer[0]).toBe(primary);
      // Every remaining replica holds every acknowledged write (the last light writes may
      // still be on their way by gossip); every other actor answers WRONG_THREAD.
      expect(acknowledged.length).toBeGreaterThan(100);
      const replicas = routingAnswers.at(-1)!;
      let missing: string[] = [];
      for (let tid = 0; tid < THREADS; tid++) {
        const isReplica = replicas.includes(actorAddress(tid));
        await waitFor(
          async () => {
            const [tuple] = (await call(tid, RequestType.GET, { key: HOT_KEY, address_cache_size: THREADS })).tuples;
            expect(tuple.invalidate).toBe(true); // the cached list had THREADS actors
            if (!isReplica) return tuple.error === AnnaError.WRONG_THREAD;
            expect(tuple.error ?? AnnaError.NO_ERROR).toBe(AnnaError.NO_ERROR);
            expect(tuple.lattice_type).toBe(LatticeType.SET);
            const stored = new Set(decodeSet(tuple.payload!).map((bytes) => Buffer.from(bytes).toString()));
            missing = acknowledged.filter((element) => !stored.has(element));
            return missing.length === 0;
          },
          10_000,
          () =>
            `actor ${tid} (replica: ${isReplica}) misses ${missing.length} acknowledged writes, e.g. ${missing.slice(0, 5).join(", ")}`,
        );
      }
    }, 120_000);
  },
);
