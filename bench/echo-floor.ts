/**
 * The transport floor of the server benchmark: the same closed loop (the generator's client
 * transport, bench/client-link.ts, on tcp://127.0.0.1, one process each side, frames of the
 * sizes annakv's requests and replies have) against a server that only echoes, over the
 * node's own client transport (ZMTP on Node's sockets, src/protocol/zmtp): no decoding, no store.
 * What it reaches is the most a Node.js server could answer this client here, which puts
 * annakv's figures and Redis's in context.
 *
 *   node -r ./bench/register.js bench/echo-floor.ts --role server --port P --reply-address A --reply-bytes N
 *   node -r ./bench/register.js bench/echo-floor.ts --role client --port P --reply-address A --request-bytes N ...
 *
 * Each request's first 4 bytes name its slot; the echo copies them into its reply.
 */
import { parseArgs } from "node:util";
import { ZmtpPullServer } from "../src/protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../src/protocol/zmtp/push-pool";
import { ClientTransport, openClientLink, parseClientTransport } from "./client-link";
import { processCpuSeconds } from "./cpu";
import { LatencyHistogram } from "./latency";

export interface EchoFloorResult {
  requestBytes: number;
  concurrency: number;
  requestsPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
  serverCpuCores: number;
  clientCpuCores: number;
}

const SLOT_BYTES = 4;

const HOUR_MS = 3_600_000;

/** Requests arrive and replies leave as an actor's do: through the node's ZMTP server and reply pool. */
async function serve(port: number, replyAddress: string, replyBytes: number): Promise<void> {
  const replies = new ZmtpPushPool({ maxSockets: 1, idleCloseMs: HOUR_MS, maxQueuedBytes: 64 << 20, lingerMs: 0, handshakeTimeoutMs: HOUR_MS });
  const template = Buffer.alloc(Math.max(replyBytes, SLOT_BYTES), 0x61);
  const server = new ZmtpPullServer({
    maxFrameBytes: 1 << 20,
    maxFramesPerBatch: 256,
    maxConnections: 16,
    handshakeTimeoutMs: HOUR_MS,
    onFrames: (requests) => {
      for (const request of requests) {
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

interface ClientOptions {
  port: number;
  replyAddress: string;
  requestBytes: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  serverPid: number;
  clientTransport: ClientTransport;
}

async function runClient(options: ClientOptions): Promise<EchoFloorResult> {
  const link = await openClientLink(options.clientTransport, options.replyAddress);
  const serverAddress = `tcp://127.0.0.1:${options.port}`;
  const template = Buffer.alloc(Math.max(options.requestBytes, SLOT_BYTES), 0x62);
  const sentAtMs = new Float64Array(options.concurrency);
  const send = (slot: number) => {
    const request = Buffer.from(template);
    request.writeUInt32LE(slot, 0);
    sentAtMs[slot] = performance.now();
    link.send(serverAddress, request);
  };
  const histogram = new LatencyHistogram();
  const measureFromMs = performance.now() + options.warmupMs;
  const endMs = measureFromMs + options.durationMs;
  let measuring = false;
  let done = false;
  let replies = 0;
  let cpuBefore = { client: 0, server: 0 };
  const finished = new Promise<void>((resolve, reject) => {
    link.onReplies((reply) => {
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
      if (measuring) {
        replies++;
        histogram.record(nowMs - sentAtMs[slot]);
      }
      send(slot);
    }, reject);
  });
  for (let slot = 0; slot < options.concurrency; slot++) send(slot);
  await finished;
  const cpuAfter = cpuSeconds(options.serverPid);
  const seconds = options.durationMs / 1000;
  await link.close();
  const summary = histogram.summary();
  return {
    requestBytes: template.length,
    concurrency: options.concurrency,
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
if (require.main === module) {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      port: { type: "string" },
      "reply-address": { type: "string" },
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
  const replyAddress = values["reply-address"];
  if (!Number.isInteger(port) || replyAddress === undefined) throw new Error("--port and --reply-address are required");
  if (values.role === "server") {
    serve(port, replyAddress, Number(values["reply-bytes"])).catch((error) => {
      console.error(error);
      process.exit(1);
    });
  } else if (values.role === "client") {
    runClient({
      port,
      replyAddress,
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
