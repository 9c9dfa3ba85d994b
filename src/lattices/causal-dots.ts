/**
 * Dot requests (docs/causal-dots.md §3): a SINGLE_CAUSAL PUT whose clock holds an entry
 * named `@<stampMicros>.<epoch>` asks the replica that takes it to name the new version's
 * own entry, its dot, after itself. Here are the request's codec and the dotted value a
 * replica stores for it; the replica's side (the dot id, the store) is
 * actor/dot-issuer.ts, the session's consistency/causal-single-key.ts.
 */
import { decodeEnvelope, encodeEnvelope, siblingSet } from "./causal-envelope";
import { bytesEqual } from "./lattice";
import type { MapEntry } from "./map";
import { setUnion, toByteSet } from "./set-union";
import { decodeSingleCausalWire, encodeSingleCausalWire, type SingleCausal } from "./single-causal";
import { clockCovers, toVectorClock, vectorClock, type VectorClock } from "./vector-clock";
import { MalformedPayloadError } from "../wire/protobuf";

/** '@': no session name or dot id (base64url) starts with it. */
const REQUEST_MARK = 0x40;
/** Clock counters are u32 on the wire. */
export const DOT_COUNTER_MAX = 0xffffffff;
const MARK_PATTERN = /^@(\d{1,16})\.(\d{1,16})$/;

export interface DotRequest {
  /** The writer's hybrid stamp (µs), for the accept floor (docs/causal-stability.md §6). */
  readonly stampMicros: number;
  /** The epoch it is stamped in (docs/causal-stability.md §7). */
  readonly epoch: number;
  /** The clock the writer read of the key: what the new version overwrites. */
  readonly context: VectorClock;
  /** The user's value. */
  readonly value: Uint8Array;
  /** Whether the value goes in an envelope (a session with `envelope: false` writes it bare). */
  readonly enveloped: boolean;
}

function markOf(stampMicros: number, epoch: number): MapEntry<number> {
  if (!Number.isSafeInteger(stampMicros) || stampMicros <= 0 || !Number.isSafeInteger(epoch) || epoch < 0)
    throw new RangeError(`a dot request's stamp and epoch are safe integers, got ${stampMicros} and ${epoch}`);
  return { key: new TextEncoder().encode(`@${stampMicros}.${epoch}`), value: 1 };
}

/** The payload of a dot request: the context with the mark, and the value (in an envelope of that clock). */
export function encodeDotRequest(request: DotRequest): Uint8Array {
  const clock = vectorClock.join(request.context, [markOf(request.stampMicros, request.epoch)]);
  const element = request.enveloped ? encodeEnvelope({ clock, value: request.value }) : request.value;
  return encodeSingleCausalWire({ first: clock, second: toByteSet([element]) });
}

/**
 * The dot request a SINGLE_CAUSAL payload holds, or undefined for a plain value. Throws
 * MalformedPayloadError (saying what is wrong) for a payload with a mark that is not a
 * request: two marks, a mark that is not `@<stamp>.<epoch>` with counter 1, a value count
 * other than one.
 */
export function dotRequestOf(payload: Uint8Array): DotRequest | undefined {
  const { first: clock, second: values } = decodeSingleCausalWire(payload, true);
  const marks = clock.filter(({ key }) => key[0] === REQUEST_MARK);
  if (marks.length === 0) return undefined;
  const [mark] = marks;
  const name = new TextDecoder().decode(mark.key);
  const parts = MARK_PATTERN.exec(name);
  if (marks.length > 1 || parts === null || mark.value !== 1)
    throw new MalformedPayloadError(
      `a dot request's clock holds one entry "@<stampMicros>.<epoch>" with counter 1 (got ${marks.length} entries ` +
        `starting with "@", the first ${JSON.stringify(name.slice(0, 40))}: ${mark.value})`,
    );
  const stampMicros = Number(parts[1]);
  const epoch = Number(parts[2]);
  if (!Number.isSafeInteger(stampMicros) || stampMicros === 0 || !Number.isSafeInteger(epoch))
    throw new MalformedPayloadError(
      `a dot request's stamp and epoch must be safe integers, stamp above 0 (got ${name})`,
    );
  if (values.length !== 1)
    throw new MalformedPayloadError(`a dot request holds exactly one value (got ${values.length})`);
  const context = clock.filter((entry) => entry !== mark);
  const envelope = decodeEnvelope(values[0]);
  // A bare value that happens to read as an envelope of another clock stays bare.
  if (envelope !== undefined && clockEquals(envelope.clock, clock))
    return { stampMicros, epoch, context, value: envelope.value, enveloped: true };
  return { stampMicros, epoch, context, value: values[0], enveloped: false };
}

function clockEquals(a: VectorClock, b: VectorClock): boolean {
  return a.length === b.length && a.every((entry, i) => entry.value === b[i].value && bytesEqual(entry.key, b[i].key));
}

/** `clock`'s counter for `id` (0 when it has none). */
export function counterOf(clock: VectorClock, id: Uint8Array): number {
  return clock.find(({ key }) => bytesEqual(key, id))?.value ?? 0;
}

/**
 * The counter of the dot replica `id` makes for `request` on a key whose stored value is
 * `stored`: one above every `id` entry the stored value and the context name. Above
 * DOT_COUNTER_MAX when the id has counted out.
 */
export function nextDotCounter(request: DotRequest, stored: SingleCausal, id: Uint8Array): number {
  return Math.max(counterOf(stored.first, id), counterOf(request.context, id)) + 1;
}

/**
 * The value a replica stores for `request` with the dot `dot` over its stored value
 * `stored` (the bottom when absent): the request's value, in a dotted envelope of the
 * context and the dot (bare, for a bare request), beside the stored values it did not
 * overwrite, under the join of the stored clock, the context and the dot. An envelope is
 * overwritten when the context covers its clock (siblingSet); a bare value, which has no
 * clock, only when the context covers the whole stored clock. Built whole here, not left
 * to the store's merge: the dotted version alone has a clock above the stored one, and
 * Anna's causal merge would take it for a value that saw everything stored.
 */
export function dottedState(request: DotRequest, dot: MapEntry<number>, stored: SingleCausal): Uint8Array {
  const contextCounter = counterOf(request.context, dot.key);
  if (dot.value <= contextCounter || dot.value > DOT_COUNTER_MAX || dot.key[0] === REQUEST_MARK)
    throw new RangeError(
      `invariant: a dot's counter is above the context's, at most ${DOT_COUNTER_MAX}, its id no mark`,
    );
  const clock = toVectorClock([...request.context, dot]);
  const element = request.enveloped
    ? encodeEnvelope({ clock, value: request.value, dot: { id: dot.key, contextCounter } })
    : request.value;
  const sawAll = clockCovers(request.context, stored.first);
  return encodeSingleCausalWire({
    first: vectorClock.join(stored.first, clock),
    second: siblingSet.join(sawAll ? setUnion.bottom : stored.second, toByteSet([element])),
  });
}
