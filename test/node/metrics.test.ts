/** The metrics endpoint: Prometheus text at /metrics and JSON at /status, per actor. */
import { AnnaClient } from "../../src/client/anna-client";
import { startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.metrics;

describe("metrics endpoint", () => {
  it("exposes each actor's counters to Prometheus and as JSON", async () => {
    const node = await startNodeProcess({ portOffset, threads: 2 });
    const client = new AnnaClient({ routingAddress: node.routingAddress });
    try {
      const keys = Array.from({ length: 50 }, (_, i) => `metric-${i}`);
      for (const key of keys) await client.putLww(key, "v");
      const base = `http://127.0.0.1:${6400 + portOffset}`;
      await waitFor(
        async () => {
          const status = await (await fetch(`${base}/status`)).json();
          return (
            status.actors.reduce(
              (sum: number, actor: { store: { keyCount: number } }) => sum + actor.store.keyCount,
              0,
            ) === keys.length
          );
        },
        10_000,
        () => "/status never counted the keys",
      );
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const keyLines = metrics.split("\n").filter((line) => line.startsWith("annakv_keys{"));
      expect(keyLines).toHaveLength(2);
      const total = keyLines.reduce((sum, line) => sum + Number(line.split(" ")[1]), 0);
      expect(total).toBe(keys.length);
      expect(metrics).toMatch(/annakv_put_tuples_total\{tid="0"\} \d+/);
      expect(metrics).toContain("# HELP annakv_gossip_keys_sent_total");
      expect(metrics).toMatch(/annakv_routing_requests_total [1-9]\d*/);
      expect(metrics).toMatch(/annakv_routing_bad_frames_total 0/);
      // The client, still open, is connected to both actors, and each replies over one connection.
      for (const tid of [0, 1]) {
        expect(metrics).toContain(`annakv_client_connections{tid="${tid}"} 1`);
        expect(metrics).toContain(`annakv_reply_connections{tid="${tid}"} 1`);
        expect(metrics).toContain(`annakv_replies_dropped_total{tid="${tid}"} 0`);
        expect(metrics).toContain(`annakv_gossip_frames_dropped_total{tid="${tid}"} 0`);
      }
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
    } finally {
      await client.close();
      expect(await node.stop()).toBe(0);
    }
  });
});
