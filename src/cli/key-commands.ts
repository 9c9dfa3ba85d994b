/** `annakv put` and `annakv get`: one key through AnnaClient. */
import { Command, InvalidArgumentError, Option } from "commander";
import { AnnaClient } from "../client/anna-client";
import { AnnaClientError } from "../client/base-client";
import { decodeLww, decodeMultiCausal, decodePriority, decodeSet, decodeSingleCausal } from "../lattices";
import { LatticeType } from "../lattices/lattice-type";
import { OptionError } from "../node/options";
import { routingAddress } from "../protocol/ports";
import { EXIT, integerOption, nodeAddressOptions } from "./common";
import { decodeDottedCausalWire, type Dot } from "../lattices/dotted-causal";

const PUT_TYPES = ["lww", "set", "ordered-set", "priority", "causal"] as const;
type PutType = (typeof PUT_TYPES)[number];

interface ConnectionFlags {
  host: string;
  portOffset: number;
  timeoutMs: number;
}

function connectionOptions(command: Command): Command {
  return nodeAddressOptions(command).addOption(
    new Option("--timeout-ms <ms>", "how long one attempt waits for the node").default(2000).argParser(integerOption),
  );
}

/** Runs `action` with a connected client; maps failures to the documented exit codes. */
async function withClient(flags: ConnectionFlags, action: (client: AnnaClient) => Promise<number>): Promise<void> {
  const client = new AnnaClient({
    routingAddress: routingAddress(flags.host, flags.portOffset),
    host: flags.host,
    timeoutMs: flags.timeoutMs,
  });
  try {
    process.exitCode = await action(client);
  } catch (error) {
    if (!(error instanceof AnnaClientError)) throw error;
    process.stderr.write(`annakv: ${error.code}: ${error.message}\n`);
    process.exitCode = error.code === "LATTICE" ? EXIT.REFUSED : EXIT.UNAVAILABLE;
  } finally {
    await client.close();
  }
}

/** "a=1,b=2" → { a: 1, b: 2 } */
function parseClock(text: string): Record<string, number> {
  const clock: Record<string, number> = {};
  for (const part of text.split(",").filter((entry) => entry.length > 0)) {
    const match = /^([^=]+)=(\d+)$/.exec(part);
    if (match === null) throw new InvalidArgumentError(`clock entries look like id=count, got ${JSON.stringify(part)}`);
    clock[match[1]] = Number(match[2]);
  }
  return clock;
}

export function putCommand(): Command {
  const command = new Command("put")
    .description("merge VALUE(s) into KEY (LWW by default; sets take several values)")
    .argument("<key>")
    .argument("<values...>")
    .addOption(new Option("--type <type>", "lattice type").choices(PUT_TYPES).default("lww"))
    .addOption(
      new Option("--timestamp <n>", "LWW timestamp (default: microseconds now, increasing)").argParser((v) =>
        BigInt(integerOption(v)),
      ),
    )
    .addOption(new Option("--priority <n>", "PRIORITY: the lowest wins").argParser(Number))
    .addOption(new Option("--clock <id=n,...>", "causal: the write's vector clock").argParser(parseClock));
  return connectionOptions(command).action(
    async (
      key: string,
      values: string[],
      flags: ConnectionFlags & { type: PutType; timestamp?: bigint; priority?: number; clock?: Record<string, number> },
    ) => {
      await withClient(flags, async (client) => {
        switch (flags.type) {
          case "lww":
            await client.putLww(key, values.join(" "), flags.timestamp);
            break;
          case "set":
          case "ordered-set":
            await client.addToSet(key, values, flags.type === "ordered-set");
            break;
          case "priority":
            if (flags.priority === undefined || Number.isNaN(flags.priority))
              throw new OptionError("--type priority needs --priority <number>");
            await client.putPriority(key, flags.priority, values.join(" "));
            break;
          case "causal":
            await client.putCausal(key, { vectorClock: flags.clock ?? {}, values });
            break;
        }
        return EXIT.OK;
      });
    },
  );
}

const text = new TextDecoder();
const clockObject = (clock: Map<string, number>) => Object.fromEntries(clock);

/** A value as a person reads it (default) or as JSON (--json). */
function describe(type: LatticeType, payload: Uint8Array, json: boolean): string {
  switch (type) {
    case LatticeType.LWW: {
      const { timestamp, value } = decodeLww(payload);
      return json
        ? JSON.stringify({ type: "LWW", timestamp: String(timestamp), value: text.decode(value) })
        : text.decode(value);
    }
    case LatticeType.SET:
    case LatticeType.ORDERED_SET: {
      const values = decodeSet(payload).map((value) => text.decode(value));
      return json ? JSON.stringify({ type: LatticeType[type], values }) : values.join("\n");
    }
    case LatticeType.PRIORITY: {
      const { priority, value } = decodePriority(payload);
      return json ? JSON.stringify({ type: "PRIORITY", priority, value: text.decode(value) }) : text.decode(value);
    }
    case LatticeType.SINGLE_CAUSAL: {
      const { vectorClock, values } = decodeSingleCausal(payload);
      return JSON.stringify({
        type: "SINGLE_CAUSAL",
        vectorClock: clockObject(vectorClock),
        values: values.map((v) => text.decode(v)),
      });
    }
    case LatticeType.MULTI_CAUSAL: {
      const { vectorClock, dependencies, values } = decodeMultiCausal(payload);
      const deps = dependencies.map((d) => ({ key: d.key, vectorClock: clockObject(d.vectorClock) }));
      return JSON.stringify({
        type: "MULTI_CAUSAL",
        vectorClock: clockObject(vectorClock),
        dependencies: deps,
        values: values.map((v) => text.decode(v)),
      });
    }
    case LatticeType.DOTTED_CAUSAL: {
      const { context, versions } = decodeDottedCausalWire(payload);
      const dotName = ({ id, counter }: Dot) => `${text.decode(id)}:${counter}`;
      return JSON.stringify({
        type: "DOTTED_CAUSAL",
        context: {
          vector: Object.fromEntries(context.vector.map(({ key, value }) => [text.decode(key), value])),
          cloud: context.cloud.map(dotName),
        },
        versions: versions.map(({ dot, value }) => ({ dot: dotName(dot), value: text.decode(value) })),
      });
    }
    default:
      return JSON.stringify({ type, payloadHex: Buffer.from(payload).toString("hex") });
  }
}

export function getCommand(): Command {
  const command = new Command("get")
    .description("print KEY's value (exit 1 if no replica holds it)")
    .argument("<key>")
    .option("--json", "print type and value as JSON");
  return connectionOptions(command).action(async (key: string, flags: ConnectionFlags & { json?: boolean }) => {
    await withClient(flags, async (client) => {
      const read = await client.get(key);
      if (read === undefined) {
        process.stderr.write(`annakv: ${JSON.stringify(key)} not found\n`);
        return EXIT.NOT_FOUND;
      }
      process.stdout.write(`${describe(read.type, read.payload, flags.json === true)}\n`);
      return EXIT.OK;
    });
  });
}
