/**
 * Keeps the fuzzer's traffic on the fuzzer and its node. A KeyRequest names the address its
 * reply goes to, a handoff the address its acknowledgement goes to: a mutation of one could
 * send the node to a host name (a DNS look-up), off the machine, or to another process's
 * port on this shared machine. The node can only ever connect to an address whose bytes
 * stand in the frame, starting `tcp://` or `ipc://` (src/protocol/zmtp/endpoint.ts), so
 * the guard needs no parser: every such run must be `tcp://127.0.0.1:` and a port of ours.
 * A length cut short can still name a prefix of such a port's digits (30880 -> 3088):
 * ports below 10000 that no test or benchmark here listens on.
 */

const TCP_PREFIX = Buffer.from("tcp://");
const IPC_PREFIX = Buffer.from("ipc://");
const LOOPBACK_HOST = Buffer.from("127.0.0.1:");
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export class AddressGuard {
  constructor(private readonly allowedPorts: ReadonlySet<number>) {}

  /** True when every address in `bytes` is one of ours on loopback. */
  allows(bytes: Uint8Array): boolean {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buffer.indexOf(IPC_PREFIX) !== -1) return false;
    for (let at = buffer.indexOf(TCP_PREFIX); at !== -1; at = buffer.indexOf(TCP_PREFIX, at + 1)) {
      const hostStart = at + TCP_PREFIX.length;
      if (!buffer.subarray(hostStart, hostStart + LOOPBACK_HOST.length).equals(LOOPBACK_HOST)) return false;
      let end = hostStart + LOOPBACK_HOST.length;
      while (end < buffer.length && buffer[end] >= DIGIT_0 && buffer[end] <= DIGIT_9) end++;
      if (!this.allowedPorts.has(Number(buffer.toString("latin1", hostStart + LOOPBACK_HOST.length, end))))
        return false;
    }
    return true;
  }
}
