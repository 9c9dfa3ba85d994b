/**
 * The transport floor of the server benchmark: the same closed loop (the generator's client
 * transport, bench/client-link.ts, on tcp://127.0.0.1, frames of the sizes annakv's
 * requests and replies have, `--connections` clients each with its own reply address, as
 * the load generator) against a server that only echoes, over the node's own client
 * transport (ZMTP on Node's sockets, src/protocol/zmtp) on `--threads` worker threads, one
 * port each, as the node's actors: no decoding, no store. What it reaches is the most a
 * Node.js server could answer this client here, in Anna's shape (a request connection and
 * a reply connection per client), which puts annakv's figures and Redis's in context.
 *
 *   node -r ./bench/register.js bench/echo-floor.ts --role server --port P --threads T --reply-bytes N
 *   node -r ./bench/register.js bench/echo-floor.ts --role client --port P --threads T --connections C --request-bytes N ...
 *
 * A request is its slot (4 bytes), the length of its reply address (1 byte), the address,
 * then padding; the echo answers at that address with the slot in its first 4 bytes.
 */
import { parseArgs } from "node:util";
import { isMainThread, Worker, workerData } from "node:worker_threads";
import { ZmtpPullServer } from "../src/protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../src/protocol/zmtp/push-pool";
import { ClientLink, ClientTransport, openClientLink, parseClientTransport } from "./client-link";
import { processCpuSeconds } from "./cpu";
import { LatencyHistogram } from "./latency";

export interface EchoFloorResult {
  requestBytes: number;
  concurrency: number;
  connections: number;
  serverThreads: number;
  requestsPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
  serverCpuCores: number;
  clientCpuCores: number;
}

const SLOT_BYTES = 4;
const ADDRESS_OFFSET = SLOT_BYTES + 1;

const HOUR_MS = 3_600_000;

interface ServeOptions {
  port: number;
  replyBytes: number;
}

/** Requests arrive and replies leave as an actor's do: through the node's ZMTP server and reply pool. */
async function serve({ port, replyBytes }: ServeOptions): Promise<void> {
  const replies = new ZmtpPushPool({
    maxSockets: 1024,
    idleCloseMs: HOUR_MS,
    maxQueuedBytes: 64 << 20,
    lingerMs: 0,
    handshakeTimeoutMs: HOUR_MS,
  });
  const template = Buffer.alloc(Math.max(replyBytes, SLOT_BYTES), 0x61);
  const server = new ZmtpPullServer({
    maxFrameBytes: 1 << 20,
    maxFramesPerBatch: 256,
    maxConnections: 4096,
    handshakeTimeoutMs: HOUR_MS,
    onFrames: (requests) => {
      for (const request of requests) {
        // The reply address is read from each request, as an Anna server must.
        const replyAddress = Buffer.from(
          request.buffer,
          request.byteOffset + ADDRESS_OFFSET,
          request[SLOT_BYTES],
        ).toString("latin1");
        // A fresh reply per request, as a server that encodes answers must make.
        const reply = Buffer.from(template);
        reply.set(request.subarray(0, SLOT_BYTES));
        replies.send(replyAddress, reply);
      }
    },
    onBadPeer: (reason) => console.error(`echo server: ${reason}`),
  });
  await server.bind(`tcp://127.0.0.1:${port}`);
}

/** One echo per thread on ports port..port+threads-1; the process's main thread only starts them. */
function serveOnThreads(port: number, threads: number, replyBytes: number): void {
  for (let tid = 0; tid < threads; tid++) {
    const worker = new Worker(`require(${JSON.stringify(__filename)})`, {
      eval: true,
      workerData: { port: port + tid, replyBytes } satisfies ServeOptions,
    });
    worker.on("error", (error) => {
      console.error(error);
      process.exit(1);
    });
  }
}

interface ClientOptions {
  port: number;
  serverThreads: number;
  connections: number;
  requestBytes: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  serverPid: number;
  clientTransport: ClientTransport;
}

/** Slot s belongs to client s mod connections and asks server thread s mod threads. */
async function runClient(options: ClientOptions): Promise<EchoFloorResult> {
  if (!(options.connections >= 1 && options.connections <= options.concurrency))
    throw new RangeError("--connections must be from 1 to the concurrency");
  const links: ClientLink[] = [];
  for (let i = 0; i < options.connections; i++)
    links.push(await openClientLink(options.clientTransport, "tcp://127.0.0.1:*"));
  const requests = Array.from({ length: options.concurrency }, (_, slot) => {
    const address = Buffer.from(links[slot % links.length].replyAddress, "latin1");
    const request = Buffer.alloc(Math.max(options.requestBytes, ADDRESS_OFFSET + address.length), 0x62);
    request.writeUInt32LE(slot, 0);
    request[SLOT_BYTES] = address.length;
    address.copy(request, ADDRESS_OFFSET);
    return request;
  });
  const serverAddresses = Array.from(
    { length: options.serverThreads },
    (_, tid) => `tcp://127.0.0.1:${options.port + tid}`,
  );
  const sentAtMs = new Float64Array(options.concurrency);
  const answered = new Uint8Array(options.concurrency);
  const send = (slot: number) => {
    sentAtMs[slot] = performance.now();
    // A fresh request per send, as a client that encodes requests must make.
    links[slot % links.length].send(serverAddresses[slot % serverAddresses.length], Buffer.from(requests[slot]));
  };
  const histogram = new LatencyHistogram();
  const measureFromMs = performance.now() + options.warmupMs;
  const endMs = measureFromMs + options.durationMs;
  let measuring = false;
  let done = false;
  let replies = 0;
  let cpuBefore = { client: 0, server: 0 };
  const finished = new Promise<void>((resolve, reject) => {
    const onReply = (reply: Uint8Array) => {
      if (done) return;
      const nowMs = performance.now();
      if (!measuring && nowMs >= measureFromMs) {
        measuring = true;
        cpuBefore = cpuSeconds(options.serverPid);
      }
      if (nowMs >= endMs) {
        done = true;
        resolve();
        return;
      }
      const slot = new DataView(reply.buffer, reply.byteOffset, SLOT_BYTES).getUint32(0, true);
      answered[slot] = 1;
      if (measuring) {
        replies++;
        histogram.record(nowMs - sentAtMs[slot]);
      }
      send(slot);
    };
    for (const link of links) link.onReplies(onReply, reject);
  });
  for (let slot = 0; slot < options.concurrency; slot++) send(slot);
  await finished;
  const cpuAfter = cpuSeconds(options.serverPid);
  const silent = answered.indexOf(0);
  if (silent >= 0)
    throw new Error(
      `slot ${silent} was never answered (by server thread ${silent % options.serverThreads}, port ${options.port + (silent % options.serverThreads)})`,
    );
  const seconds = options.durationMs / 1000;
  for (const link of links) await link.close();
  const summary = histogram.summary();
  return {
    requestBytes: requests[0].length,
    concurrency: options.concurrency,
    connections: options.connections,
    serverThreads: options.serverThreads,
    requestsPerSecond: replies / seconds,
    latencyMsP50: summary.latencyMsP50,
    latencyMsP99: summary.latencyMsP99,
    serverCpuCores: (cpuAfter.server - cpuBefore.server) / seconds,
    clientCpuCores: (cpuAfter.client - cpuBefore.client) / seconds,
  };
}

function cpuSeconds(serverPid: number): { client: number; server: number } {
  const usage = process.cpuUsage();
  return { client: (usage.user + usage.system) / 1e6, server: processCpuSeconds(serverPid) };
}

/** Run as a process: the server serves until killed; the client prints one JSON line. */
if (!isMainThread) {
  serve(workerData as ServeOptions).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else if (require.main === module) {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      port: { type: "string" },
      threads: { type: "string", default: "1" },
      connections: { type: "string", default: "1" },
      "reply-bytes": { type: "string", default: "0" },
      "request-bytes": { type: "string", default: "0" },
      concurrency: { type: "string", default: "50" },
      "warmup-ms": { type: "string", default: "500" },
      "duration-ms": { type: "string", default: "2000" },
      "server-pid": { type: "string", default: "0" },
      "client-transport": { type: "string", default: "zmtp" },
    },
  });
  const port = Number(values.port);
  const threads = Number(values.threads);
  if (!Number.isInteger(port)) throw new Error("--port is required");
  if (!(Number.isInteger(threads) && threads >= 1))
    throw new Error(`--threads must be a positive integer, got ${values.threads}`);
  if (values.role === "server") {
    serveOnThreads(port, threads, Number(values["reply-bytes"]));
  } else if (values.role === "client") {
    runClient({
      port,
      serverThreads: threads,
      connections: Number(values.connections),
      requestBytes: Number(values["request-bytes"]),
      concurrency: Number(values.concurrency),
      warmupMs: Number(values["warmup-ms"]),
      durationMs: Number(values["duration-ms"]),
      serverPid: Number(values["server-pid"]),
      clientTransport: parseClientTransport(values["client-transport"]),
    }).then(
      (result) => {
        process.stdout.write(JSON.stringify(result) + "\n");
        process.exit(0);
      },
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else throw new Error(`--role must be server or client, got ${values.role}`);
}
