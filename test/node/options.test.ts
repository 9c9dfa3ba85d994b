/** The node's options: validated at the edge, with the refusals a user needs to see. */
import os from "node:os";
import { OptionError, parseSeed, resolveNodeOptions } from "../../src/node/options";

describe("cluster options", () => {
  it("parses seeds as HOST[:PORT], the port defaulting to the membership port of the offset", () => {
    expect(parseSeed("10.0.0.1", 100)).toEqual({ host: "10.0.0.1", port: 6450 });
    expect(parseSeed("node-2.annakv:7000", 0)).toEqual({ host: "node-2.annakv", port: 7000 });
    expect(parseSeed("[::1]:6350", 0)).toEqual({ host: "::1", port: 6350 });
    expect(parseSeed("::1", 0)).toBeUndefined();
    expect(parseSeed("host:99999", 0)).toBeUndefined();
    expect(() => resolveNodeOptions({ join: ["a b"] })).toThrow(/join: "a b" is not HOST or HOST:PORT/);
  });

  it("refuses to expose cluster ports beyond loopback without credentials, unless told the network is trusted", () => {
    expect(() => resolveNodeOptions({ host: "0.0.0.0" })).toThrow(/beyond loopback without credentials/);
    expect(() => resolveNodeOptions({ host: "0.0.0.0", clusterTlsCa: "ca.crt" })).toThrow(/all three/);
    expect(resolveNodeOptions({ host: "127.0.0.7" }).advertiseHost).toBe("127.0.0.7");
  });

  it("advertises a reachable address for a node bound to every interface", () => {
    expect(
      resolveNodeOptions({ host: "0.0.0.0", clusterInsecure: true, advertiseHost: "10.1.2.3" }).advertiseHost,
    ).toBe("10.1.2.3");
    expect(() => resolveNodeOptions({ host: "0.0.0.0", clusterInsecure: true, advertiseHost: "0.0.0.0" })).toThrow(
      OptionError,
    );
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal);
    if (external.length === 0) {
      expect(() => resolveNodeOptions({ host: "0.0.0.0", clusterInsecure: true })).toThrow(/no external address/);
    } else {
      const advertised = resolveNodeOptions({ host: "0.0.0.0", clusterInsecure: true }).advertiseHost;
      expect(external.map((address) => address!.address)).toContain(advertised);
    }
  });

  it("takes a rebalance share above 0 and at most 1", () => {
    expect(resolveNodeOptions({}).rebalanceShare).toBe(0.1);
    expect(resolveNodeOptions({ rebalanceShare: 1 }).rebalanceShare).toBe(1);
    for (const bad of [0, -0.1, 1.5, NaN, Infinity]) {
      expect(() => resolveNodeOptions({ rebalanceShare: bad })).toThrow(
        /rebalanceShare must be a number above 0 and at most 1/,
      );
    }
  });

  it("takes a causal accept lag of 0 to 3 600 000 whole milliseconds", () => {
    expect(resolveNodeOptions({}).causalAcceptLagMs).toBe(25);
    expect(resolveNodeOptions({ causalAcceptLagMs: 0 }).causalAcceptLagMs).toBe(0);
    for (const bad of [-1, 0.5, 3_600_001, NaN]) {
      expect(() => resolveNodeOptions({ causalAcceptLagMs: bad })).toThrow(/causalAcceptLagMs/);
    }
  });

  it("keeps put acknowledgements within the global replication", () => {
    expect(() => resolveNodeOptions({ globalReplication: 2, putAcks: 3 })).toThrow(
      /putAcks \(3\) cannot be above globalReplication \(2\)/,
    );
    expect(resolveNodeOptions({}).globalReplication).toBe(2);
  });

  it("bounds client connections per listening socket and their idle time, 0 meaning never", () => {
    expect(resolveNodeOptions({})).toMatchObject({ maxConnections: 4096, idleTimeoutMs: 300_000 });
    expect(resolveNodeOptions({ maxConnections: 8, idleTimeoutMs: 0 })).toMatchObject({
      maxConnections: 8,
      idleTimeoutMs: 0,
    });
    expect(() => resolveNodeOptions({ maxConnections: 0 })).toThrow(
      /maxConnections must be an integer from 1 to 1000000, got 0/,
    );
    expect(() => resolveNodeOptions({ idleTimeoutMs: -1 })).toThrow(
      /idleTimeoutMs must be an integer from 0 to 86400000, got -1/,
    );
    expect(() => resolveNodeOptions({ idleTimeoutMs: 1.5 })).toThrow(OptionError);
  });
});
