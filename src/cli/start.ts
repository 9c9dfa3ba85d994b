/** `annakv start`: runs a node in the foreground until SIGINT or SIGTERM. */
import { Command, Option } from "commander";
import { ActorDeath, RunningNode, startNode } from "../node/node";
import { JoinError } from "../cluster/membership-service";
import { createLogger } from "../node/logger";
import { DEFAULT_NODE_OPTIONS, LOG_LEVELS, NodeOptions, OptionError, resolveNodeOptions } from "../node/options";
import { EXIT, integerOption, listOption, numberOption, onOffOption } from "./common";

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
    .addOption(
      option("--host <address>", "interface to bind (loopback unless you ask; IPv6 as ::1 or [::1])", "HOST", d.host),
    )
    .addOption(
      option(
        "--port-offset <n>",
        "added to every port: routing 6450, actors 6200+tid, gossip 6250+tid, metrics 6400",
        "PORT_OFFSET",
        d.portOffset,
      ).argParser(integerOption),
    )
    .addOption(option("--engine <engine>", "store engine", "ENGINE", d.engine).choices(["wasm", "ts"]))
    .addOption(
      option(
        "--local-replication <n>",
        "actors holding each key (1 = partitioned; threads = full replication)",
        "LOCAL_REPLICATION",
        d.localReplication,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--gossip-period-ms <ms>",
        "how often dirty keys are sent to their other replicas",
        "GOSSIP_PERIOD_MS",
        d.gossipPeriodMs,
      ).argParser(integerOption),
    )
    .addOption(
      new Option("--hot-key-replication <on|off>", "give hot keys more replicas (selective replication)")
        .env("ANNAKV_HOT_KEY_REPLICATION")
        .default(d.hotKeyReplication, d.hotKeyReplication ? "on" : "off")
        .argParser(onOffOption),
    )
    .addOption(
      option(
        "--hot-key-window-ms <ms>",
        "how often key accesses are sampled and replication factors decided",
        "HOT_KEY_WINDOW_MS",
        d.hotKeyWindowMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--hot-key-threshold <share>",
        "a key is hot above this share of the mean actor load",
        "HOT_KEY_THRESHOLD",
        d.hotKeyThreshold,
      ).argParser(numberOption),
    )
    .addOption(
      option(
        "--hot-key-min-ops-per-sec <n>",
        "keys below this request rate are never hot",
        "HOT_KEY_MIN_OPS_PER_SEC",
        d.hotKeyMinOpsPerSec,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--hot-key-cooldown-windows <n>",
        "windows a hot key must stay cooler before its extra replicas go",
        "HOT_KEY_COOLDOWN_WINDOWS",
        d.hotKeyCooldownWindows,
      ).argParser(integerOption),
    )
    .addOption(
      option("--max-key-bytes <n>", "longest key accepted", "MAX_KEY_BYTES", d.maxKeyBytes).argParser(integerOption),
    )
    .addOption(
      option(
        "--max-value-bytes <n>",
        "longest value accepted (payload or merged)",
        "MAX_VALUE_BYTES",
        d.maxValueBytes,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--max-store-memory-bytes <n>",
        "memory limit of each actor's store",
        "MAX_STORE_MEMORY_BYTES",
        d.maxStoreMemoryBytes,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--max-connections <n>",
        "client connections to each actor's request port and to routing, each; more are refused",
        "MAX_CONNECTIONS",
        d.maxConnections,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--idle-timeout-ms <ms>",
        "a client connection that sends nothing for this long is closed (0: never)",
        "IDLE_TIMEOUT_MS",
        d.idleTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(new Option("--no-metrics", "do not serve /metrics and /status over HTTP"))
    .addOption(option("--log-level <level>", "log level", "LOG_LEVEL", d.logLevel).choices(LOG_LEVELS))
    .addOption(
      option(
        "--shutdown-timeout-ms <ms>",
        "time given to in-flight work on SIGINT/SIGTERM",
        "SHUTDOWN_TIMEOUT_MS",
        d.shutdownTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(
      new Option(
        "--join <seeds>",
        "join a cluster through any of these members: HOST[:PORT],... (port: 6350 + offset; IPv6 as [::1]); none starts a new cluster",
      )
        .env("ANNAKV_JOIN")
        .default(d.join, "none")
        .argParser(listOption),
    )
    .addOption(
      new Option(
        "--advertise-host <address>",
        "host other nodes and clients are told (default: --host; for 0.0.0.0, this machine's first external address)",
      ).env("ANNAKV_ADVERTISE_HOST"),
    )
    .addOption(
      option(
        "--global-replication <n>",
        "nodes holding each key (a property of the cluster: every node must agree)",
        "GLOBAL_REPLICATION",
        d.globalReplication,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--put-acks <n>",
        "replica nodes holding a PUT before it is answered (1: Anna's behaviour; clients may ask per request)",
        "PUT_ACKS",
        d.putAcks,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--put-ack-timeout-ms <ms>",
        "past this, a PUT still short of its acknowledgements is answered TIMEOUT (the value stays and gossips)",
        "PUT_ACK_TIMEOUT_MS",
        d.putAckTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--failure-timeout-ms <ms>",
        "a member silent this long is declared dead (suspected at half); its keys are re-replicated",
        "FAILURE_TIMEOUT_MS",
        d.failureTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--join-timeout-ms <ms>",
        "how long to wait for a seed to answer (then exit 4)",
        "JOIN_TIMEOUT_MS",
        d.joinTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--leave-timeout-ms <ms>",
        "on SIGTERM, how long a member may take to hand its keys to their other owners",
        "LEAVE_TIMEOUT_MS",
        d.leaveTimeoutMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--anti-entropy-period-ms <ms>",
        "how often each actor compares digests of its keys with their other replicas and sends what differs (0: never)",
        "ANTI_ENTROPY_PERIOD_MS",
        d.antiEntropyPeriodMs,
      ).argParser(integerOption),
    )
    .addOption(
      option(
        "--rebalance-share <share>",
        "share of each gossip period an actor spends moving keys after a join, leave or failure (lower serves more meanwhile, higher restores copies sooner)",
        "REBALANCE_SHARE",
        d.rebalanceShare,
      ).argParser(numberOption),
    )
    .addOption(
      option(
        "--causal-accept-lag-ms <ms>",
        "how far behind each actor's clock multi-key causal writes may be stamped before they are refused and re-stamped, one round trip more (the stable time trails the clock by at least this); raise it where clients are further away or their clocks further off",
        "CAUSAL_ACCEPT_LAG_MS",
        d.causalAcceptLagMs,
      ).argParser(integerOption),
    )
    .addOption(
      option("--cluster-name <name>", "nodes join only a cluster of the same name", "CLUSTER_NAME", d.clusterName),
    )
    .addOption(
      new Option(
        "--cluster-tls-ca <file>",
        "PEM: the cluster's CA (annakv certs DIR makes it); cluster links then need mutual TLS",
      ).env("ANNAKV_CLUSTER_TLS_CA"),
    )
    .addOption(
      new Option("--cluster-tls-cert <file>", "PEM: this node's certificate, signed by the cluster's CA").env(
        "ANNAKV_CLUSTER_TLS_CERT",
      ),
    )
    .addOption(new Option("--cluster-tls-key <file>", "PEM: this node's private key").env("ANNAKV_CLUSTER_TLS_KEY"))
    .addOption(
      new Option(
        "--cluster-insecure",
        "the network is trusted: cluster ports may be reached beyond loopback without TLS (env: ANNAKV_CLUSTER_INSECURE, on or off)",
      ),
    )
    .action(async (flags: StartFlags) => {
      // Commander would take any value of a boolean flag's variable, "off" too, as on.
      const insecureEnv = process.env.ANNAKV_CLUSTER_INSECURE;
      if (insecureEnv !== undefined && insecureEnv !== "on" && insecureEnv !== "off")
        throw new OptionError(`ANNAKV_CLUSTER_INSECURE must be on or off, got ${JSON.stringify(insecureEnv)}`);
      const clusterInsecure = flags.clusterInsecure === true || insecureEnv === "on";
      const options = resolveNodeOptions({ ...flags, clusterInsecure });
      const logger = createLogger(options.logLevel);
      let node: RunningNode;
      try {
        node = await startNode(options, logger);
      } catch (error) {
        if (!(error instanceof JoinError)) throw error;
        process.stderr.write(`annakv: could not join: ${error.message}\n`);
        logger.flush();
        process.exit(error.code === "REFUSED" ? EXIT.USAGE : EXIT.UNAVAILABLE);
      }
      logger.info(
        {
          routing: node.routingAddress,
          actors: node.actorAddresses,
          metrics: node.metricsUrl,
          engine: options.engine,
          localReplication: options.localReplication,
        },
        `annakv listening: routing ${node.routingAddress}, ${options.threads} actors on ${node.actorAddresses[0]}..., metrics ${node.metricsUrl ?? "off"}, cluster member ${node.membershipId}`,
      );
      let stopping = false;
      /** Set once an actor died: whatever began the stop, the node exits ACTOR_DIED. */
      let actorDeath: ActorDeath | undefined;
      /** `reason`: the signal, or the actor that died. */
      const shutdown = async (reason: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ reason }, "stopping: answering received requests, flushing gossip");
        // A stop that hangs (a socket that never unbinds) must not leave the process behind.
        setTimeout(
          () => {
            logger.error({ shutdownTimeoutMs: options.shutdownTimeoutMs }, "shutdown overran its deadline; exiting");
            logger.flush();
            process.exit(actorDeath !== undefined ? EXIT.ACTOR_DIED : EXIT.SHUTDOWN_OVERRAN);
          },
          options.leaveTimeoutMs + options.shutdownTimeoutMs + SHUTDOWN_GRACE_MS,
        ).unref();
        const { requestsAnswered, handedOff } = await node.stop();
        logger.info({ requestsAnswered }, `stopped after answering ${requestsAnswered} requests`);
        if (actorDeath !== undefined) {
          process.stderr.write(
            `annakv: actor ${actorDeath.tid} died (${actorDeath.cause}); the node stopped (exit ${EXIT.ACTOR_DIED}): restart it\n`,
          );
        }
        logger.flush();
        process.exit(actorDeath !== undefined ? EXIT.ACTOR_DIED : handedOff ? EXIT.OK : EXIT.SHUTDOWN_OVERRAN);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
      void node.actorDied.then((death) => {
        actorDeath = death;
        void shutdown(`actor ${death.tid} died`);
      });
    });
}
