// Embeds build/annakv.wasm with nothing but the WebAssembly API: no annakv TypeScript,
// no loader. It follows docs/wasm-abi.md and can be ported to any host with a Wasm runtime.
// Run: node examples/embed-plain-wasm.mjs [path/to/annakv.wasm]
import { readFile } from "node:fs/promises";

const wasmPath = process.argv[2] ?? new URL("../build/annakv.wasm", import.meta.url);
const STATUS = [
  "OK",
  "NOT_FOUND",
  "LATTICE",
  "MALFORMED",
  "KEY_TOO_LARGE",
  "VALUE_TOO_LARGE",
  "OUT_OF_MEMORY",
  "BAD_BATCH",
];
const LWW = 1;

let memory;
const readString = (pointer) => {
  // AssemblyScript strings: UTF-16 code units, byte length stored 4 bytes before the data.
  if (pointer === 0) return "";
  const bytes = new Uint32Array(memory.buffer, pointer - 4, 1)[0];
  return String.fromCharCode(...new Uint16Array(memory.buffer, pointer, bytes / 2));
};
const imports = {
  env: {
    abort(message, file, line, column) {
      throw new Error(`annakv.wasm aborted: ${readString(message)} at ${readString(file)}:${line}:${column}`);
    },
  },
};
const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), imports);
const core = instance.exports;
memory = core.memory;

function check(status, what) {
  if (status !== 0) throw new Error(`${what}: ${STATUS[status]}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// LWWValue { timestamp = 1 (varint), value = 2 (bytes) }, hand-encoded for a short value.
function lww(timestamp, text) {
  const value = encoder.encode(text);
  return Uint8Array.of(0x08, timestamp, 0x12, value.length, ...value);
}

function put(key, type, payload) {
  const keyBytes = encoder.encode(key);
  const pointer = core.inputBuffer(keyBytes.length + payload.length);
  if (pointer === 0) throw new Error("OUT_OF_MEMORY");
  // Views are made after the call: any call may grow memory and detach older views.
  new Uint8Array(memory.buffer, pointer, keyBytes.length).set(keyBytes);
  new Uint8Array(memory.buffer, pointer + keyBytes.length, payload.length).set(payload);
  check(core.put(type, keyBytes.length, payload.length), `put ${key}`);
}

function get(key) {
  const keyBytes = encoder.encode(key);
  const pointer = core.inputBuffer(keyBytes.length);
  new Uint8Array(memory.buffer, pointer, keyBytes.length).set(keyBytes);
  const status = core.get(keyBytes.length);
  if (status === 1) return undefined;
  check(status, `get ${key}`);
  return {
    type: core.resultType(),
    payload: new Uint8Array(memory.buffer, core.outputPtr(), core.outputLength()).slice(),
  };
}

check(core.configure(1024, 1 << 20, 256), "configure");
put("greeting", LWW, lww(1, "hello"));
put("greeting", LWW, lww(2, "hello, wasm")); // newer timestamp wins
put("greeting", LWW, lww(1, "stale")); // older: merged away
const value = get("greeting");
// The canonical LWWValue: 08 <timestamp> 12 <length> <bytes>
console.log(
  `greeting = type ${value.type}, timestamp ${value.payload[1]}, value "${decoder.decode(value.payload.subarray(4))}"`,
);
console.log(`missing = ${get("missing")}`);

// A batch: u32 opCount, then per op u8 opcode, u8 type, u32 keyLength, u32 payloadLength, key, payload.
const ops = [
  { opcode: 2, type: LWW, key: encoder.encode("a"), payload: lww(7, "x") },
  { opcode: 1, type: 0, key: encoder.encode("a"), payload: new Uint8Array(0) },
];
const length = 4 + ops.reduce((sum, op) => sum + 10 + op.key.length + op.payload.length, 0);
const pointer = core.inputBuffer(length);
const view = new DataView(memory.buffer, pointer, length);
view.setUint32(0, ops.length, true);
let offset = 4;
for (const op of ops) {
  view.setUint8(offset, op.opcode);
  view.setUint8(offset + 1, op.type);
  view.setUint32(offset + 2, op.key.length, true);
  view.setUint32(offset + 6, op.payload.length, true);
  new Uint8Array(memory.buffer, pointer + offset + 10).set(op.key);
  new Uint8Array(memory.buffer, pointer + offset + 10 + op.key.length).set(op.payload);
  offset += 10 + op.key.length + op.payload.length;
}
check(core.batch(length), "batch");
const output = new DataView(memory.buffer, core.outputPtr(), core.outputLength());
const results = [];
for (let i = 0, at = 4; i < output.getUint32(0, true); i++) {
  const payloadLength = output.getUint32(at + 2, true);
  results.push(`${STATUS[output.getUint8(at)]}(${payloadLength} bytes)`);
  at += 6 + payloadLength;
}
console.log(`batch results: ${results.join(", ")}`);
console.log(`keys: ${core.keyCount()}, bytes used: ${core.bytesUsed()}, memory: ${core.memoryBytes()}`);
