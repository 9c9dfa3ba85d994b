/**
 * The membership lattice: merging member entries (and whole tables) is associative,
 * commutative and idempotent, so nodes that saw the same entries in any order, any number
 * of times, hold the same table. Seeded fast-check runs; ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { holds, isNext, isServing, Lifecycle, MemberEntry, mergeMember, Suspicion } from "../../src/cluster/member";
import { MembershipTable } from "../../src/cluster/membership-table";

const SEED = Number(process.env.ANNAKV_SEED ?? 20261204);
const RUNS = 300;
const options = { seed: SEED, numRuns: RUNS };

/** Entries of one member whose owner data follows its (incarnation, heartbeat), as a node writes it. */
const entry = (id = "n1:6350"): fc.Arbitrary<MemberEntry> =>
  fc
    .record({
      incarnation: fc.integer({ min: 1, max: 3 }),
      lifecycle: fc.constantFrom(Lifecycle.JOINING, Lifecycle.ALIVE, Lifecycle.LEAVING, Lifecycle.LEFT),
      suspicion: fc.constantFrom(Suspicion.NONE, Suspicion.SUSPECT, Suspicion.DEAD),
      heartbeat: fc.integer({ min: 0, max: 4 }),
    })
    .map(({ incarnation, lifecycle, suspicion, heartbeat }) => ({
      id,
      incarnation,
      lifecycle,
      suspicion,
      heartbeat,
      data: {
        host: "h",
        portOffset: 0,
        threads: 1,
        localReplication: 1,
        keyCount: incarnation * 10 + heartbeat,
        synced: {},
        factors: { version: heartbeat, factors: [] },
        stability: { heldMicros: heartbeat * 1000, epoch: 3 },
      },
    }));

const same = (a: MemberEntry, b: MemberEntry) => expect(a).toEqual(b);

describe("member entries", () => {
  it("merge commutatively", () =>
    fc.assert(
      fc.property(entry(), entry(), (a, b) => same(mergeMember(a, b), mergeMember(b, a))),
      options,
    ));
  it("merge associatively", () =>
    fc.assert(
      fc.property(entry(), entry(), entry(), (a, b, c) =>
        same(mergeMember(mergeMember(a, b), c), mergeMember(a, mergeMember(b, c))),
      ),
      options,
    ));
  it("merge idempotently", () =>
    fc.assert(
      fc.property(entry(), (a) => same(mergeMember(a, a), a)),
      options,
    ));

  it("a higher incarnation wins whole; in one incarnation lifecycle and suspicion only rise", () => {
    const base = fc.sample(entry(), { seed: SEED, numRuns: 1 })[0];
    const older = { ...base, incarnation: 1, lifecycle: Lifecycle.LEFT, suspicion: Suspicion.DEAD };
    const newer = { ...base, incarnation: 2, lifecycle: Lifecycle.JOINING, suspicion: Suspicion.NONE };
    expect(mergeMember(older, newer)).toBe(newer);
    const suspected = mergeMember({ ...newer, heartbeat: 9 }, { ...newer, suspicion: Suspicion.SUSPECT, heartbeat: 1 });
    expect([suspected.suspicion, suspected.heartbeat]).toEqual([Suspicion.SUSPECT, 9]);
  });

  it("places joiners on the next ring only, leavers on the serving ring only, and the dead on neither", () => {
    const at = (lifecycle: Lifecycle, suspicion = Suspicion.NONE) => ({
      ...fc.sample(entry(), { seed: SEED, numRuns: 1 })[0],
      lifecycle,
      suspicion,
    });
    expect([isServing(at(Lifecycle.JOINING)), isNext(at(Lifecycle.JOINING))]).toEqual([false, true]);
    expect([isServing(at(Lifecycle.ALIVE, Suspicion.SUSPECT)), isNext(at(Lifecycle.ALIVE, Suspicion.SUSPECT))]).toEqual(
      [true, true],
    );
    expect([isServing(at(Lifecycle.LEAVING)), isNext(at(Lifecycle.LEAVING))]).toEqual([true, false]);
    expect([isServing(at(Lifecycle.ALIVE, Suspicion.DEAD)), isNext(at(Lifecycle.ALIVE, Suspicion.DEAD))]).toEqual([
      false,
      false,
    ]);
    expect([isServing(at(Lifecycle.LEFT)), isNext(at(Lifecycle.LEFT))]).toEqual([false, false]);
  });
});

describe("membership tables", () => {
  const ids = ["a:1", "b:1", "c:1"];
  const anyEntry = fc.constantFrom(...ids).chain((id) => entry(id));

  it("converge whatever the order and repetition of the entries merged", () =>
    fc.assert(
      fc.property(
        fc.array(anyEntry, { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (entries, order) => {
          const straight = new MembershipTable();
          straight.merge(entries);
          const shuffled = new MembershipTable();
          const permuted = [...entries];
          for (const [i, j] of order.map((n, i) => [i % permuted.length, n % permuted.length]))
            [permuted[i], permuted[j]] = [permuted[j], permuted[i]];
          for (const one of [...permuted, ...permuted.slice(0, 3)]) shuffled.merge([one]);
          const byId = (table: MembershipTable) => table.all().sort((x, y) => (x.id < y.id ? -1 : 1));
          expect(byId(shuffled)).toEqual(byId(straight));
          for (const one of entries) expect(holds(straight.get(one.id)!, one)).toBe(true);
        },
      ),
      options,
    ));

  it("refuses an own entry that went backwards", () => {
    const table = new MembershipTable();
    const own = fc.sample(entry("me:1"), { seed: SEED, numRuns: 1 })[0];
    table.setOwn({ ...own, incarnation: 5, heartbeat: 3 });
    expect(() => table.setOwn({ ...own, incarnation: 5, heartbeat: 2 })).toThrow("went backwards");
  });
});
