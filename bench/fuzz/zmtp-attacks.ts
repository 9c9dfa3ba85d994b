/**
 * The fuzzer's ZMTP layer: byte streams that break ZMTP 3.1 (https://rfc.zeromq.org/spec/37/)
 * somewhere between the first greeting byte and the frames after the handshake, each sent
 * on a connection of its own. Every node listener is a PULL socket, so a well-behaved peer
 * is a PUSH: greeting, READY with Socket-Type PUSH, then message frames.
 */
import {
  commandFrame,
  FLAG_COMMAND,
  FLAG_LONG,
  FLAG_MORE,
  frameHeaderBytes,
  GREETING,
  GREETING_BYTES,
  readyCommand,
  writeFrameHeader,
} from "../../src/protocol/zmtp/frames";
import type { Prng } from "../workload";

export interface ZmtpAttack {
  kind: string;
  /** Written in order, each its own write (a split stream arrives in pieces). */
  chunks: Uint8Array[];
  /** How long to keep the connection open after the last write, unless the node closes it first. */
  holdMs: number;
  /** False: never read what the node sends (its PONGs pile up on its side). */
  reads: boolean;
}

/** Something the socket accepts as a message: a corpus entry, maybe mutated. */
export type MessageSource = () => Uint8Array;

/** Body bytes sent of a frame announced larger: enough to be held, not enough to cost the node. */
const PARTIAL_BODY_BYTES_MAX = 64 * 1024;
const HOLD_CHOICES_MS = [0, 10, 50, 200];
/** The node's largest message frame (src/node/node.ts FRAME_BYTES_MAX) and command (stream.ts COMMAND_BYTES_MAX). */
const NODE_MAX_FRAME_BYTES = 256 * 1024 * 1024;
const NODE_MAX_COMMAND_BYTES = 64 * 1024;
const OTHER_SOCKET_TYPES = [
  "PULL",
  "PUB",
  "SUB",
  "REQ",
  "REP",
  "DEALER",
  "ROUTER",
  "PAIR",
  "push",
  "",
  "PUSH\0",
  "XPUB",
];
const OTHER_MECHANISMS = ["PLAIN", "CURVE", "GSSAPI", "NUL", "NULLX", "null", "NULL\0\0\0x"];
const OTHER_COMMANDS = ["HELLO", "WELCOME", "INITIATE", "SUBSCRIBE", "CANCEL", "PONG", "JOIN", "LEAVE", "X", ""];

const HANDSHAKE = Buffer.concat([GREETING, readyCommand("PUSH")]);

function frame(flags: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(frameHeaderBytes(body.length) + body.length);
  out.set(body, writeFrameHeader(out, 0, flags, body.length));
  return out;
}

/** A header announcing `bodyBytes` (any 64-bit size), in the long form. */
function longHeader(flags: number, bodyBytes: bigint): Buffer {
  const header = Buffer.alloc(9);
  header[0] = flags | FLAG_LONG;
  header.writeBigUInt64BE(bodyBytes, 1);
  return header;
}

/** READY metadata from raw (name, declared value length, value) triples. */
function properties(entries: ReadonlyArray<readonly [string, number, Uint8Array]>): Buffer {
  return Buffer.concat(
    entries.map(([name, declaredBytes, value]) => {
      const head = Buffer.alloc(1 + name.length + 4);
      head[0] = name.length;
      head.write(name, 1, "latin1");
      head.writeUInt32BE(declaredBytes >>> 0, 1 + name.length);
      return Buffer.concat([head, value]);
    }),
  );
}

function greetingWith(change: (greeting: Buffer) => void): Buffer {
  const greeting = Buffer.from(GREETING);
  change(greeting);
  return greeting;
}

type AttackBuilder = (random: Prng, message: MessageSource) => Uint8Array[];

const ATTACKS: Record<string, AttackBuilder> = {
  "greeting-signature": (random) => [
    greetingWith((greeting) => {
      if (random.chance(0.5)) greeting[0] = random.int(255);
      else greeting[9] &= 0xfe;
    }),
  ],
  "greeting-version": (random, message) => [
    greetingWith((greeting) => {
      greeting[10] = random.pick([0, 1, 2, 3, 4, 255]);
      greeting[11] = random.int(256);
    }),
    readyCommand("PUSH"),
    frame(0, message()),
  ],
  "greeting-mechanism": (random) => [
    greetingWith((greeting) => {
      greeting.fill(0, 12, 32);
      if (random.chance(0.3)) random.fill(greeting.subarray(12, 32));
      else greeting.write(random.pick(OTHER_MECHANISMS), 12, "latin1");
    }),
    readyCommand("PUSH"),
  ],
  "greeting-truncated": (random) => [GREETING.subarray(0, 1 + random.int(GREETING_BYTES - 1))],
  "greeting-filler": (random, message) => [
    greetingWith((greeting) => {
      greeting[32] = random.int(256);
      random.fill(greeting.subarray(33));
      random.fill(greeting.subarray(1, 9));
    }),
    readyCommand("PUSH"),
    frame(0, message()),
  ],
  "split-stream": (random, message) => {
    const stream = Buffer.concat([HANDSHAKE, ...Array.from({ length: 1 + random.int(8) }, () => frame(0, message()))]);
    const cuts = Array.from({ length: 1 + random.int(12) }, () => random.int(stream.length)).sort((a, b) => a - b);
    return [0, ...cuts].map((start, index, all) => stream.subarray(start, all[index + 1] ?? stream.length));
  },
  "ready-metadata": (random, message) => {
    const socketType = Buffer.from("PUSH");
    const metadata = random.pick([
      () => properties([["Socket-Type", 0xffffffff, socketType]]),
      () => properties([["Socket-Type", socketType.length + 1 + random.int(100), socketType]]),
      () => properties([["Socket-Type", socketType.length, socketType]]).subarray(0, 1 + random.int(15)),
      () => properties([["Socket-Type", 4, Buffer.from(random.pick(OTHER_SOCKET_TYPES).padEnd(4).slice(0, 4))]]),
      () =>
        properties([
          ["Socket-Type", 4, Buffer.from("PULL")],
          ["Socket-Type", 4, socketType],
        ]),
      () =>
        properties([
          ["Identity", 255, random.bytes(255)],
          ["", 0, new Uint8Array(0)],
          ["Socket-Type", 4, socketType],
        ]),
      () => properties([["x".repeat(255), 0, new Uint8Array(0)]]),
      () => properties(Array.from({ length: 2000 }, (_, i) => [`p${i}`, 16, random.bytes(16)] as const)),
      () => Buffer.from(random.bytes(random.int(64))),
    ])();
    return [GREETING, commandFrame("READY", metadata.subarray(0, NODE_MAX_COMMAND_BYTES - 8)), frame(0, message())];
  },
  "command-before-ready": (random) => [
    GREETING,
    random.chance(0.3)
      ? frame(FLAG_COMMAND, Uint8Array.of(200, 1, 2))
      : commandFrame(random.pick(["PING", "ERROR", ...OTHER_COMMANDS]), random.bytes(random.int(32))),
  ],
  "message-before-ready": (random, message) => [GREETING, frame(random.chance(0.5) ? 0 : FLAG_MORE, message())],
  "command-after-ready": (random, message) => {
    const command = random.pick([
      () => commandFrame(random.pick(OTHER_COMMANDS), random.bytes(random.int(64))),
      () => commandFrame("PING", random.bytes(random.int(19))),
      () => commandFrame("PING", random.bytes(19 + random.int(60_000))),
      () => commandFrame("PING", random.bytes(random.int(2))),
      () => commandFrame("ERROR", Uint8Array.of(200, 0x41)),
      () => commandFrame("READY", properties([["Socket-Type", 4, Buffer.from("PUSH")]])),
      () => frame(FLAG_COMMAND | FLAG_MORE, Uint8Array.of(4, 0x50, 0x49, 0x4e, 0x47, 0, 1)),
    ])();
    return [HANDSHAKE, frame(0, message()), command, frame(0, message())];
  },
  "ping-flood": () => [
    HANDSHAKE,
    Buffer.concat(Array.from({ length: 4000 }, () => commandFrame("PING", Uint8Array.of(0, 10, 1, 2, 3, 4)))),
  ],
  "reserved-flags": (random, message) => [HANDSHAKE, frame(0x08 << random.int(5), message())],
  "long-form-small-frame": (random, message) => {
    const body = message();
    return [
      HANDSHAKE,
      Buffer.concat([longHeader(random.chance(0.8) ? 0 : FLAG_MORE, BigInt(body.length)), body, frame(0, message())]),
    ];
  },
  "length-past-bound": (random) => {
    const size = random.pick([BigInt(NODE_MAX_FRAME_BYTES + 1), 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]);
    return [
      HANDSHAKE,
      Buffer.concat([longHeader(random.chance(0.8) ? 0 : FLAG_COMMAND, size), random.bytes(random.int(64))]),
    ];
  },
  "command-past-bound": (random) => [
    HANDSHAKE,
    Buffer.concat([
      longHeader(FLAG_COMMAND, BigInt(NODE_MAX_COMMAND_BYTES + 1 + random.int(1000))),
      random.bytes(1024),
    ]),
  ],
  "long-frame-cut": (random) => {
    const announced = random.pick([256 * 1024, 1024 * 1024, 64 * 1024 * 1024, NODE_MAX_FRAME_BYTES]);
    return [
      HANDSHAKE,
      Buffer.concat([longHeader(0, BigInt(announced)), random.bytes(random.int(PARTIAL_BODY_BYTES_MAX))]),
    ];
  },
  "more-chain": (random, message) => {
    const parts = random.pick([2, 10, 1000]);
    const frames = Array.from({ length: parts }, (_, i) =>
      frame(i < parts - 1 || random.chance(0.5) ? FLAG_MORE : 0, i === 0 ? message() : random.bytes(random.int(32))),
    );
    return [HANDSHAKE, Buffer.concat(frames)];
  },
  "truncated-frame": (random, message) => {
    const last = frame(0, message());
    return [HANDSHAKE, frame(0, message()), last.subarray(0, random.int(last.length))];
  },
  "garbage-after-handshake": (random) => [HANDSHAKE, random.bytes(1 + random.int(4096))],
  "garbage-stream": (random) => {
    const bytes = random.bytes(1 + random.int(512));
    if (random.chance(0.5)) bytes[0] = 0xff;
    return [bytes];
  },
};

export const ZMTP_ATTACK_KINDS = Object.keys(ATTACKS);

export function zmtpAttack(random: Prng, message: MessageSource): ZmtpAttack {
  const kind = random.pick(ZMTP_ATTACK_KINDS);
  return {
    kind,
    chunks: ATTACKS[kind](random, message),
    holdMs: random.pick(HOLD_CHOICES_MS),
    reads: kind !== "ping-flood" || random.chance(0.2),
  };
}

/** A well-behaved PUSH connection carrying `messages` (the message layer's framing). */
export function validStream(messages: readonly Uint8Array[]): Uint8Array[] {
  return [Buffer.concat([HANDSHAKE, ...messages.map((message) => frame(0, message))])];
}
