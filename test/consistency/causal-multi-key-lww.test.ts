/**
 * causal-multi-key-lww sessions (src/consistency/causal-multi-key-lww.ts) against a
 * scripted transport whose answers and stable times the test chooses: what a write sends
 * (an LWW value stamped above all the session saw, naming its dependencies by stamp and
 * write id), and reads that must require the stable time of what they return, including a
 * version another session of the client wrote while the read was in flight, and that count
 * a key's version as covering every version of the key stamped below it.
 */
import { CausalCut } from "../../src/consistency/causal-cut";
import { causalLwwVersions } from "../../src/consistency/causal-lww-versions";
import { CAUSAL_CUT_LIMITS_DEFAULT } from "../../src/consistency/causal-options";
import { CausalSession } from "../../src/consistency/causal-session";
import type { KeyTransport, PutOutcome, PutTuple, ValueRead } from "../../src/consistency/transport";
import { causalWriteId, decodeCausalLww, encodeCausalLww } from "../../src/lattices/causal-lww";
import { LatticeType } from "../../src/lattices/lattice-type";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const EPOCH = 7;
/** The scripted wall clock: stamps come from it, so the test knows them. */
const NOW_MICROS = 1_000_000n;

/** A stamped LWW value as another client's session would have written it. */
function stampedValue(stampMicros: number, value: string, baseMicros = 0): ValueRead {
  const payload = encodeCausalLww({
    stampMicros,
    baseMicros,
    writer: utf8.encode("other"),
    dependencyStamps: [],
    value: utf8.encode(value),
    epoch: EPOCH,
    baseEpoch: baseMicros > 0 ? EPOCH : 0,
  });
  return { type: LatticeType.LWW, payload };
}

/**
 * A store of one value per key behind a transport: reads answer with `stableMicros` in
 * EPOCH, from `replicas` by name; `hold` keeps the next getMany's answer until released.
 */
class ScriptedStore implements KeyTransport {
  readonly values = new Map<string, ValueRead>();
  readonly puts: PutTuple[] = [];
  readonly replicaReads: string[] = [];
  stableMicros = 0;
  /** Answers taken while held. */
  heldAnswers = 0;
  private held: { release: () => void; wait: Promise<void> } | undefined;

  hold(): () => void {
    let release = () => {};
    const wait = new Promise<void>((resolve) => (release = resolve));
    this.held = { release, wait };
    return release;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    // The answer as the replica gives it now; what it reaches the client with is decided here, not on release.
    const answer = this.answer(keys);
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) {
      this.heldAnswers++;
      await held.wait;
    }
    return answer;
  }

  async putManySettled(puts: readonly PutTuple[]): Promise<Map<string, PutOutcome>> {
    const outcomes = new Map<string, PutOutcome>();
    for (const put of puts) {
      this.puts.push(put);
      this.values.set(put.key, { type: put.type, payload: put.payload });
      outcomes.set(put.key, { status: "applied", stableMicros: this.stableMicros, stableEpoch: EPOCH });
    }
    return outcomes;
  }

  putToReplica(_replica: string, puts: readonly PutTuple[]): Promise<Map<string, PutOutcome>> {
    return this.putManySettled(puts);
  }

  async replicasOf(): Promise<string[]> {
    return ["r0", "r1"];
  }

  async getFromReplica(replica: string, keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    this.replicaReads.push(replica);
    return this.answer(keys);
  }

  private answer(keys: readonly string[]): Map<string, ValueRead | undefined> {
    return new Map(
      keys.map((key) => {
        const value = this.values.get(key);
        return [key, value && { ...value, stableMicros: this.stableMicros, stableEpoch: EPOCH }];
      }),
    );
  }
}

function sessions(store: ScriptedStore, count: number): CausalSession[] {
  const lwwCut = new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions);
  let nowMicros = NOW_MICROS;
  return Array.from(
    { length: count },
    (_, index) =>
      new CausalSession(
        {
          transport: store,
          cut: new CausalCut(),
          lwwCut,
          sessionId: `s${index}`,
          nowMicros: () => (nowMicros += 1000n),
        },
        { scope: "multi-key-lww" },
      ),
  );
}

describe("causal-multi-key-lww sessions", () => {
  it("stamps a write above every version it read and names what it read by stamp and write id", async () => {
    const store = new ScriptedStore();
    // Far above the session's clock: its write must still overwrite it.
    store.values.set("a", stampedValue(5_000_000, "a0"));
    const [session] = sessions(store, 1);
    expect((await session.get("a")).map(text)).toEqual(["a0"]);
    await session.put("b", "b1");
    const { version, stamped } = decodeCausalLww(store.puts[0].payload);
    expect(store.puts[0].type).toBe(LatticeType.LWW);
    expect(version.micros).toBeGreaterThan(5_000_000);
    expect(version.writeId).toEqual(causalWriteId(utf8.encode("s0")));
    expect(stamped!.dependencyStamps).toEqual([
      { key: utf8.encode("a"), stampMicros: 5_000_000, epoch: EPOCH, writer: causalWriteId(utf8.encode("other")) },
    ]);
    await session.put("a", "a1");
    expect(decodeCausalLww(store.puts[1].payload).version.micros).toBeGreaterThan(version.micros);
    expect((await session.get("a")).map(text)).toEqual(["a1"]);
  });

  /**
   * A read of `keys` ("k", "other") whose request leaves while the client has heard a
   * stable time of 100 only; meanwhile another session hears 900 (with a write of another
   * key) and writes k with that base, so the cut's k requires 900 of its readers.
   */
  async function readAcrossWriteOfK(keys: readonly string[]) {
    const store = new ScriptedStore();
    store.values.set("k", stampedValue(500, "k0"));
    store.values.set("other", stampedValue(600, "o0"));
    store.stableMicros = 100;
    const [reader, writer] = sessions(store, 2);
    const release = store.hold();
    const read = reader.getMany(keys);
    await new Promise(setImmediate);
    expect(store.heldAnswers).toBe(1);
    store.stableMicros = 900;
    await writer.put("w", "w1");
    await writer.put("k", "k1");
    const written = decodeCausalLww(store.puts[1].payload);
    expect(written.stamped!.baseMicros).toBe(900);
    expect(written.version.micros).toBeGreaterThan(900);
    release();
    return { store, values: await read };
  }

  it("requires the stable time of a version another session of the client wrote while the read was in flight", async () => {
    const { store, values } = await readAcrossWriteOfK(["k", "other"]);
    // The read returns the writer's k. The held answer of "other" counts for 100, and its version, stamped 600,
    // covers no more: it is asked of a replica again, whose answer now counts for 900.
    expect(values.get("k")!.map(text)).toEqual(["k1"]);
    expect(values.get("other")!.map(text)).toEqual(["o0"]);
    expect(store.replicaReads).toHaveLength(1);
  });

  it("asks no replica again for a key whose version, stamped above the stable time it requires, covers it", async () => {
    const { store, values } = await readAcrossWriteOfK(["k"]);
    // k1 requires 900 and the held answer counts for 100, but k1 is stamped above 900: every version of k stamped
    // at or below 900 is below it, whatever a replica holds.
    expect(values.get("k")!.map(text)).toEqual(["k1"]);
    expect(store.replicaReads).toEqual([]);
  });
});
