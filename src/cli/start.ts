/** `annakv start`: runs a node in the foreground until SIGINT or SIGTERM. */
import { Command, Option } from "commander";
import { startNode } from "../node/node";
import { createLogger } from "../node/logger";
import { DEFAULT_NODE_OPTIONS, LOG_LEVELS, NodeOptions, resolveNodeOptions } from "../node/options";
import { EXIT, integerOption, numberOption, onOffOption } from "./common";

/** Beyond --shutdown-timeout-ms, the time sockets get to close before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 2000;

/** Commander hands the parsed flags over under NodeOptions' names; resolveNodeOptions validates them. */
type StartFlags = NodeOptions;

function option(flags: string, description: string, env: string, defaultValue: unknown): Option {
  return new Option(flags, description).env(`ANNAKV_${env}`).default(defaultValue);
}

export function startCommand(): Command {
  const d = DEFAULT_NODE_OPTIONS;
  return new Command("start")
    .description("start a node: one actor per thread, the routing service and the metrics endpoint")
    .addOption(option("--threads <n>", "actors (worker threads)", "THREADS", d.threads).argParser(integerOption))
    .addOption(option("--host <address>", "interface to bind (loopback unless you ask; IPv6 as ::1 or [::1])", "HOST", d.host))
    .addOption(option("--port-offset <n>", "added to every port: routing 6450, actors 6200+tid, gossip 6250+tid, metrics 6400", "PORT_OFFSET", d.portOffset).argParser(integerOption))
    .addOption(option("--engine <engine>", "store engine", "ENGINE", d.engine).choices(["wasm", "ts"]))
    .addOption(option("--local-replication <n>", "actors holding each key (1 = partitioned; threads = full replication)", "LOCAL_REPLICATION", d.localReplication).argParser(integerOption))
    .addOption(option("--gossip-period-ms <ms>", "how often dirty keys are sent to their other replicas", "GOSSIP_PERIOD_MS", d.gossipPeriodMs).argParser(integerOption))
    .addOption(
      new Option("--hot-key-replication <on|off>", "give hot keys more replicas (selective replication)")
        .env("ANNAKV_HOT_KEY_REPLICATION")
        .default(d.hotKeyReplication, d.hotKeyReplication ? "on" : "off")
        .argParser(onOffOption),
    )
    .addOption(option("--hot-key-window-ms <ms>", "how often key accesses are sampled and replication factors decided", "HOT_KEY_WINDOW_MS", d.hotKeyWindowMs).argParser(integerOption))
    .addOption(option("--hot-key-threshold <share>", "a key is hot above this share of the mean actor load", "HOT_KEY_THRESHOLD", d.hotKeyThreshold).argParser(numberOption))
    .addOption(option("--hot-key-min-ops-per-sec <n>", "keys below this request rate are never hot", "HOT_KEY_MIN_OPS_PER_SEC", d.hotKeyMinOpsPerSec).argParser(integerOption))
    .addOption(option("--hot-key-cooldown-windows <n>", "windows a hot key must stay cooler before its extra replicas go", "HOT_KEY_COOLDOWN_WINDOWS", d.hotKeyCooldownWindows).argParser(integerOption))
    .addOption(option("--max-key-bytes <n>", "longest key accepted", "MAX_KEY_BYTES", d.maxKeyBytes).argParser(integerOption))
    .addOption(option("--max-value-bytes <n>", "longest value accepted (payload or merged)", "MAX_VALUE_BYTES", d.maxValueBytes).argParser(integerOption))
    .addOption(option("--max-store-memory-bytes <n>", "memory limit of each actor's store", "MAX_STORE_MEMORY_BYTES", d.maxStoreMemoryBytes).argParser(integerOption))
    .addOption(new Option("--no-metrics", "do not serve /metrics and /status over HTTP"))
    .addOption(option("--log-level <level>", "log level", "LOG_LEVEL", d.logLevel).choices(LOG_LEVELS))
    .addOption(option("--shutdown-timeout-ms <ms>", "time given to in-flight work on SIGINT/SIGTERM", "SHUTDOWN_TIMEOUT_MS", d.shutdownTimeoutMs).argParser(integerOption))
    .action(async (flags: StartFlags) => {
      const options = resolveNodeOptions(flags);
      const logger = createLogger(options.logLevel);
      const node = await startNode(options, logger);
      logger.info(
        { routing: node.routingAddress, actors: node.actorAddresses, metrics: node.metricsUrl, engine: options.engine, localReplication: options.localReplication },
        `annakv listening: routing ${node.routingAddress}, ${options.threads} actors on ${node.actorAddresses[0]}..., metrics ${node.metricsUrl ?? "off"}`,
      );
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "stopping: answering received requests, flushing gossip");
        // A stop that hangs (a socket that never unbinds) must not leave the process behind.
        setTimeout(() => {
          logger.error({ shutdownTimeoutMs: options.shutdownTimeoutMs }, "shutdown overran its deadline; exiting");
          logger.flush();
          process.exit(EXIT.SHUTDOWN_OVERRAN);
        }, options.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
        const { requestsAnswered } = await node.stop();
        logger.info({ requestsAnswered }, `stopped after answering ${requestsAnswered} requests`);
        logger.flush();
        process.exit(EXIT.OK);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
