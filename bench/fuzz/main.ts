/**
 * The fuzz campaign (`npm run bench:fuzz`): a real node attacked on every socket at the
 * ZMTP and message layers by several connections at once; see campaign.ts.
 *
 *   node -r ./bench/register.js bench/fuzz/main.ts [--seconds N] [--seed N] [--connections N] [--port-offset N] [--threads N] [--out FILE.json]
 *
 * Writes FILE.json and FILE.svg: bench/results/fuzz-2core.* by default. Exits 1 when a
 * target is missed (a crash, RSS past its bound, a stop that did not exit 0).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import type { LineChart, StackedBarChart } from "../chart";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import { DEFAULT_FUZZ_OPTIONS, FuzzOptions, FuzzResult, fuzzNode, fuzzTargets } from "./campaign";
import { MIB } from "./memory";
import { positiveInteger } from "../options";

const RESULT_NAME = "fuzz-2core";

function parseRun(): { options: FuzzOptions; jsonPath: string } {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      seed: { type: "string" },
      connections: { type: "string" },
      "port-offset": { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
    },
  });
  const d = DEFAULT_FUZZ_OPTIONS;
  const options: FuzzOptions = {
    ...d,
    seconds: positiveInteger(values.seconds, d.seconds, "--seconds"),
    seed: positiveInteger(values.seed, d.seed, "--seed"),
    connections: positiveInteger(values.connections, d.connections, "--connections"),
    portOffset: positiveInteger(values["port-offset"], d.portOffset, "--port-offset"),
    threads: positiveInteger(values.threads, d.threads, "--threads"),
  };
  return { options, jsonPath: path.resolve(values.out ?? path.join(RESULTS_DIR, `${RESULT_NAME}.json`)) };
}

function charts(result: FuzzResult): [StackedBarChart, LineChart, LineChart] {
  const sockets = result.sockets.map((socket) => socket.socket);
  const perBatch = (read: (batch: FuzzResult["batches"][number]) => number) => result.batches.map(read);
  const groups = result.batches.map((batch) => (batch.batch % 10 === 0 ? batch.secondsFromStart.toFixed(0) : ""));
  return [
    {
      kind: "stacked",
      title: `Inputs per socket (${result.inputsTotal} in ${result.seconds.toFixed(0)} s, seed ${result.options.seed})`,
      yLabel: "inputs",
      groups: sockets,
      series: [
        { name: "ZMTP layer", values: result.sockets.map((socket) => socket.inputs.zmtp) },
        { name: "message layer", values: result.sockets.map((socket) => socket.inputs.message) },
      ],
    },
    {
      kind: "line",
      title: `Slowest valid request after each batch (longest ${result.longestStallMs.toFixed(0)} ms)`,
      yLabel: "ms",
      xLabel: "seconds from start",
      groups,
      series: [{ name: "slowest probe", values: perBatch((batch) => batch.probeMsMax) }],
    },
    {
      kind: "line",
      title: "Node RSS after each batch, against its bound",
      yLabel: "MiB",
      xLabel: "seconds from start",
      groups,
      series: [{ name: "RSS", values: perBatch((batch) => batch.rssBytes / MIB) }],
      reference: { name: "bound", values: perBatch(() => result.rss.boundBytes / MIB) },
    },
  ];
}

/** Numbers to 3 significant digits (integers kept), so the JSON diffs readably. */
function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, item) => (typeof item === "number" ? round(item) : item)));
}

async function main(): Promise<void> {
  const { options, jsonPath } = parseRun();
  const machine = machineInfo();
  console.log(
    `fuzz: ${options.seconds} s, seed ${options.seed}, ${options.connections} connections, node on port offset ${options.portOffset} with ${options.threads} actors`,
  );
  const result = await fuzzNode(options, (line) => console.log(line));
  const targets = fuzzTargets(result);
  const output = { benchmark: "fuzz", machine, targets, ...result };
  const paths = writeResults(path.dirname(jsonPath), path.basename(jsonPath, ".json"), rounded(output), charts(result));
  console.log(JSON.stringify(targets, null, 2));
  console.log(`wrote ${paths.join(", ")}`);
  process.exitCode = Object.values(targets).every((target) => target.met) ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
