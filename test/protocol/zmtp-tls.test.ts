/**
 * Mutual TLS on the ZMTP transport, on real sockets on 127.0.0.1: credentials made by
 * generateClusterCredentials load, and every way they can be wrong is named; a TLS pull
 * server and push pool of one CA exchange frames in order; peers without the CA's
 * certificate (another CA, no certificate, plain ZMTP, garbage, silence) are refused
 * before any frame is handed over, while the server goes on serving; a pool refuses a
 * server of another CA.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { ClusterCredentials, generateClusterCredentials, VALIDITY_DAYS_MAX } from "../../src/protocol/zmtp/credentials";
import { ZmtpPullServer, ZmtpPullServerOptions } from "../../src/protocol/zmtp/pull-server";
import { ZmtpPushPool, ZmtpPushPoolOptions } from "../../src/protocol/zmtp/push-pool";
import { ClusterTls, loadClusterTls } from "../../src/protocol/zmtp/tls";
import { waitFor } from "../support/node-process";

const DAY_MS = 24 * 60 * 60 * 1000;
const POOL_OPTIONS: ZmtpPushPoolOptions = {
  maxSockets: 4,
  idleCloseMs: 60_000,
  maxQueuedBytes: 64 << 20,
  lingerMs: 0,
  handshakeTimeoutMs: 5000,
};

const asTls = (credentials: ClusterCredentials): ClusterTls => ({
  ca: credentials.caCert,
  cert: credentials.nodeCert,
  key: credentials.nodeKey,
});

let cluster: ClusterCredentials;
/** A second cluster: its CA signed none of `cluster`'s certificates. */
let other: ClusterCredentials;
let scratch: string;

beforeAll(async () => {
  [cluster, other] = await Promise.all([generateClusterCredentials(), generateClusterCredentials()]);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "annakv-tls-"));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Writes PEM text to a file of the scratch folder; returns its path. */
function pemFile(name: string, pem: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, pem);
  return file;
}

describe("cluster credentials", () => {
  it("generates a CA and a node certificate that load and validate", () => {
    const files = {
      caFile: pemFile("ca.crt", cluster.caCert),
      certFile: pemFile("node.crt", cluster.nodeCert),
      keyFile: pemFile("node.key", cluster.nodeKey),
    };
    expect(loadClusterTls(files)).toEqual(asTls(cluster));
    expect(cluster.caKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("names the file and the problem of every wrong set", async () => {
    const caFile = pemFile("ca.crt", cluster.caCert);
    const certFile = pemFile("node.crt", cluster.nodeCert);
    const keyFile = pemFile("node.key", cluster.nodeKey);
    const otherCert = pemFile("other-node.crt", other.nodeCert);
    const otherKey = pemFile("other-node.key", other.nodeKey);
    const missing = path.join(scratch, "missing.crt");
    expect(() => loadClusterTls({ caFile, certFile, keyFile: otherKey })).toThrow(
      `${otherKey}: not the private key of the certificate in ${certFile}`,
    );
    expect(() => loadClusterTls({ caFile, certFile: otherCert, keyFile: otherKey })).toThrow(
      `${otherCert}: not signed by the CA in ${caFile} (issuer CN=annakv cluster CA)`,
    );
    expect(() => loadClusterTls({ caFile: missing, certFile, keyFile })).toThrow(`${missing}: cannot read (ENOENT)`);
    expect(() => loadClusterTls({ caFile, certFile: scratch, keyFile })).toThrow(`${scratch}: cannot read (EISDIR)`);
    expect(() => loadClusterTls({ caFile, certFile: keyFile, keyFile })).toThrow(`${keyFile}: not a PEM certificate`);
    expect(() => loadClusterTls({ caFile, certFile, keyFile: certFile })).toThrow(
      `${certFile}: not an unencrypted PEM private key`,
    );
    expect(() => loadClusterTls({ caFile: certFile, certFile, keyFile })).toThrow(
      `${certFile}: not a CA certificate (its basic constraints say CA:FALSE)`,
    );

    const expired = await generateClusterCredentials({ days: 1, validFrom: new Date(Date.now() - 10 * DAY_MS) });
    const expiredFiles = {
      caFile: pemFile("old-ca.crt", expired.caCert),
      certFile: pemFile("old-node.crt", expired.nodeCert),
      keyFile: pemFile("old-node.key", expired.nodeKey),
    };
    expect(() => loadClusterTls(expiredFiles)).toThrow(
      new RegExp(`^${expiredFiles.caFile}: expired on \\w+ +\\d+ [\\d:]+ \\d+ GMT$`),
    );
    const future = await generateClusterCredentials({ days: 1, validFrom: new Date(Date.now() + 10 * DAY_MS) });
    expect(() =>
      loadClusterTls({
        caFile: pemFile("new-ca.crt", future.caCert),
        certFile: pemFile("new-node.crt", future.nodeCert),
        keyFile: pemFile("new-node.key", future.nodeKey),
      }),
    ).toThrow(/new-ca\.crt: not valid before /);
  });

  it("refuses a validity that is not a whole number of days within the limit", async () => {
    await expect(generateClusterCredentials({ days: 0 })).rejects.toThrow(
      `days must be a whole number from 1 to ${VALIDITY_DAYS_MAX}, not 0`,
    );
    await expect(generateClusterCredentials({ days: 1.5 })).rejects.toThrow(RangeError);
    await expect(generateClusterCredentials({ days: VALIDITY_DAYS_MAX + 1 })).rejects.toThrow(RangeError);
  });
});

describe("ZMTP over mutual TLS", () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function pullServer(
    options: Partial<ZmtpPullServerOptions> = {},
  ): Promise<{ server: ZmtpPullServer; frames: Buffer[]; problems: string[]; port: number }> {
    const frames: Buffer[] = [];
    const problems: string[] = [];
    const server = new ZmtpPullServer({
      maxFrameBytes: 4 << 20,
      maxFramesPerBatch: 256,
      maxConnections: 64,
      handshakeTimeoutMs: 5000,
      tls: asTls(cluster),
      onFrames: (batch) => frames.push(...batch.map((frame) => Buffer.from(frame))),
      onBadPeer: (reason) => problems.push(reason),
      ...options,
    });
    await server.bind("tcp://127.0.0.1:*");
    closers.push(() => server.close());
    return { server, frames, problems, port: Number(server.boundAddress!.split(":").at(-1)) };
  }

  function pool(options: Partial<ZmtpPushPoolOptions> = {}): { pool: ZmtpPushPool; losses: string[] } {
    const created = new ZmtpPushPool({ ...POOL_OPTIONS, tls: asTls(cluster), ...options });
    const losses: string[] = [];
    created.onLoss = (address) => losses.push(address);
    closers.push(() => created.close());
    return { pool: created, losses };
  }

  /** A plain TCP socket, closed with the test. */
  function rawSocket(port: number): net.Socket {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    closers.push(() => socket.destroy());
    return socket;
  }

  const closed = (socket: net.Socket) =>
    new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));

  /** Bodies of every ZMTP header size and across many TLS records (16 KiB each). */
  const SIZES = [0, 1, 255, 256, 4096, 70_000, 3 * 1024 * 1024];
  const bodyOf = (size: number, seed: number) => Buffer.alloc(size, seed % 251);
  const digests = (frames: Uint8Array[]) =>
    frames.map((frame) => `${frame.length}:${createHash("sha256").update(frame).digest("hex")}`);

  it("exchanges frames of every size in order between a server and a pool of one CA", async () => {
    const { server, frames, problems } = await pullServer();
    const { pool: push, losses } = pool();
    // Sent at once: the frames wait in the TLS socket for its handshake, then in ZMTP's for READY.
    for (const [i, size] of SIZES.entries()) push.send(server.boundAddress!, bodyOf(size, i));
    await waitFor(
      () => frames.length === SIZES.length,
      5000,
      () => `${frames.length} frames`,
    );
    for (let i = 0; i < 100; i++) push.send(server.boundAddress!, Buffer.from(`after ${i}`));
    await waitFor(
      () => frames.length === SIZES.length + 100,
      5000,
      () => `${frames.length} frames`,
    );
    expect(digests(frames.slice(0, SIZES.length))).toEqual(digests(SIZES.map(bodyOf)));
    expect(frames.slice(SIZES.length).map(String)).toEqual(Array.from({ length: 100 }, (_, i) => `after ${i}`));
    expect(server.connectionCount).toBe(1);
    expect(problems).toEqual([]);
    expect([push.sendErrors, push.droppedFrames, losses]).toEqual([0, 0, []]);
  });

  it("refuses peers without the CA's certificate before any frame, and serves the next one", async () => {
    const { server, frames, problems, port } = await pullServer();
    const address = server.boundAddress!;
    const stranger = pool({ tls: asTls(other) });
    stranger.pool.send(address, Buffer.from("from another CA"));
    await waitFor(
      () => problems.length === 1 && stranger.losses.length === 1,
      5000,
      () => JSON.stringify({ problems, losses: stranger.losses }),
    );
    expect(stranger.pool.sendErrors).toBe(1);

    pool({ tls: undefined }).pool.send(address, Buffer.from("plain ZMTP"));
    await waitFor(
      () => problems.length === 2,
      5000,
      () => JSON.stringify(problems),
    );

    const garbage = rawSocket(port);
    garbage.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await closed(garbage);
    await waitFor(
      () => problems.length === 3,
      5000,
      () => JSON.stringify(problems),
    );

    // TLS from a client without a certificate: the server asks for one and gets none.
    const anonymous = tls.connect({
      port,
      host: "127.0.0.1",
      ca: cluster.caCert,
      checkServerIdentity: () => undefined,
    });
    anonymous.on("error", () => undefined);
    closers.push(() => anonymous.destroy());
    await closed(anonymous);
    await waitFor(
      () => problems.length === 4,
      5000,
      () => JSON.stringify(problems),
    );

    for (const problem of problems) expect(problem).toMatch(/^TLS: /);
    expect(problems[3]).toMatch(/certificate/);
    expect(frames).toEqual([]);
    pool().pool.send(address, Buffer.from("member"));
    await waitFor(
      () => frames.length === 1,
      5000,
      () => "no frame from a member after the refusals",
    );
    expect(String(frames[0])).toBe("member");
    expect(problems).toHaveLength(4);
  });

  it("refuses a server whose certificate is from another CA: a send error and a loss, nothing delivered", async () => {
    const { server, frames } = await pullServer({ tls: asTls(other) });
    const { pool: push, losses } = pool();
    push.send(server.boundAddress!, Buffer.from("for the cluster only"));
    await waitFor(
      () => losses.length === 1 && !push.openAddresses.includes(server.boundAddress!),
      5000,
      () => `losses ${JSON.stringify(losses)}`,
    );
    expect(losses).toEqual([server.boundAddress]);
    expect(push.sendErrors).toBe(1);
    expect(frames).toEqual([]);
  });

  it("bounds connections stalled in the TLS handshake by the handshake timeout and maxConnections", async () => {
    const { server, frames, problems, port } = await pullServer({ handshakeTimeoutMs: 1000, maxConnections: 2 });
    const stalled = [rawSocket(port), rawSocket(port)];
    await Promise.all(stalled.map((socket) => new Promise((resolve) => socket.once("connect", resolve))));
    // Both places are taken by connections that say nothing: a third is closed at once.
    const third = rawSocket(port);
    await closed(third);
    expect(stalled.map((socket) => socket.closed)).toEqual([false, false]);
    await Promise.all(stalled.map(closed));
    await waitFor(
      () => problems.length === 2,
      5000,
      () => JSON.stringify(problems),
    );
    expect(problems).toEqual(["TLS: no TLS handshake within 1000 ms", "TLS: no TLS handshake within 1000 ms"]);
    pool().pool.send(server.boundAddress!, Buffer.from("served once they are gone"));
    await waitFor(
      () => frames.length === 1,
      5000,
      () => "no frame after the stalled connections",
    );
  });

  it("ends connections still in the TLS handshake when closed, reporting none of them", async () => {
    const { server, problems, port } = await pullServer({ handshakeTimeoutMs: 60_000 });
    const stalled = rawSocket(port);
    await waitFor(
      () => (server as unknown as { tlsConnections: Set<net.Socket> }).tlsConnections.size === 1,
      5000,
      () => "not accepted",
    );
    const startMs = Date.now();
    await server.close();
    await closed(stalled);
    // Far below the handshake timeout, which an unfinished handshake would otherwise hold close() for.
    expect(Date.now() - startMs).toBeLessThan(5000);
    expect(problems).toEqual([]);
  });

  it("refuses to listen on or connect to ipc:// with TLS", async () => {
    const server = new ZmtpPullServer({
      maxFrameBytes: 1024,
      maxFramesPerBatch: 1,
      maxConnections: 1,
      handshakeTimeoutMs: 1000,
      tls: asTls(cluster),
      onFrames: () => undefined,
      onBadPeer: () => undefined,
    });
    const address = `ipc://${path.join(scratch, "tls.sock")}`;
    await expect(server.bind(address)).rejects.toThrow(
      `cannot listen on ${JSON.stringify(address)} with TLS: only tcp:// endpoints take TLS`,
    );
    const { pool: push } = pool();
    push.send(address, Buffer.from("nowhere"));
    expect([push.sendErrors, push.socketCount]).toEqual([1, 0]);
  });
});
