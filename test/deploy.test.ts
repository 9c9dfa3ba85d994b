/**
 * The deployment files (Dockerfile, .dockerignore, deploy/compose.yaml, deploy/kubernetes/)
 * against the node they run. No container engine runs here, so nothing is started: the files
 * are parsed and checked against `annakv start --help` of the built CLI, which is the node's
 * own account of its flags, environment variables, defaults and ports. Every problem names
 * its file and the offending item; a broken copy of each file is shown to fail.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const CLI_PATH = path.join(ROOT, "dist/cli/main.js");
const DEPLOY_DIR = path.join(ROOT, "deploy");
const COMPOSE_FILE = "deploy/compose.yaml";
/** The image's entrypoint; manifests give only what follows it. */
const ENTRYPOINT = ["node", "dist/cli/main.js"];
const SUBCOMMAND = "start";
/** A Kubernetes $(VAR) reference in args, expanded from the container's env. */
const ENV_REFERENCE = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g;

// ---------------------------------------------------------------------------------------------
// What the node says about itself

interface FlagHelp {
  takesValue: boolean;
  env?: string;
  defaultValue?: string;
}

interface StartHelp {
  flags: Map<string, FlagHelp>;
  envNames: Set<string>;
  base: { routing: number; request: number; gossip: number; membership: number; metrics: number };
  /** Request ports 6200+tid stay below the gossip ports 6250+tid. */
  maxThreads: number;
}

function startHelpText(cliPath = CLI_PATH): string {
  if (!fs.existsSync(cliPath)) {
    throw new Error(
      `${path.relative(ROOT, cliPath)} is missing: run \`npm run build\` first (\`npm test\` builds before testing)`,
    );
  }
  return execFileSync(process.execPath, [cliPath, SUBCOMMAND, "--help"], { encoding: "utf8", timeout: 20_000 });
}

/** Help text as one normalized block per option (commander wraps descriptions over lines). */
function optionBlocks(helpText: string): string[] {
  const blocks: string[] = [];
  for (const line of helpText.split("\n")) {
    if (/^ {2}(?:-[A-Za-z], )?--[a-z]/.test(line)) blocks.push(line.trim());
    else if (blocks.length > 0 && /^ {3,}\S/.test(line)) blocks[blocks.length - 1] += ` ${line.trim()}`;
  }
  return blocks.map((block) => block.replace(/\s+/g, " "));
}

function parseStartHelp(helpText: string): StartHelp {
  const flags = new Map<string, FlagHelp>();
  for (const block of optionBlocks(helpText)) {
    const definition = /^(?:-[A-Za-z], )?--([a-z0-9-]+)( <[^>]+>)?/.exec(block)!;
    const env = /env: (ANNAKV_[A-Z0-9_]+)/.exec(block)?.[1];
    const defaultValue = /\(default: ("[^"]*"|[^,)]+)/.exec(block)?.[1].replace(/^"|"$/g, "");
    flags.set(definition[1], { takesValue: definition[2] !== undefined, env, defaultValue });
  }
  const text = helpText.replace(/\s+/g, " ");
  const layout = /routing (\d+), actors (\d+)\+tid, gossip (\d+)\+tid, metrics (\d+)/.exec(text);
  const membership = /port: (\d+) \+ offset/.exec(text);
  if (layout === null || membership === null) {
    throw new Error(
      '`annakv start --help` no longer states the port layout ("routing N, actors N+tid, gossip N+tid, metrics N" and "port: N + offset"): update test/deploy.test.ts',
    );
  }
  const [routing, request, gossip, metrics] = layout.slice(1).map(Number);
  const envNames = new Set([...flags.values()].flatMap((flag) => (flag.env === undefined ? [] : [flag.env])));
  return {
    flags,
    envNames,
    base: { routing, request, gossip, membership: Number(membership[1]), metrics },
    maxThreads: gossip - request,
  };
}

/** Every port a node with these settings listens on, with its role. */
function portTable(help: StartHelp, threads: number, portOffset: number): Map<number, string> {
  const table = new Map<number, string>();
  const { base } = help;
  table.set(base.routing + portOffset, "routing");
  table.set(base.membership + portOffset, "membership");
  table.set(base.metrics + portOffset, "metrics");
  for (let tid = 0; tid < threads; tid++) {
    table.set(base.request + portOffset + tid, `request ${tid}`);
    table.set(base.gossip + portOffset + tid, `gossip ${tid}`);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// A node's command line, as a container runs it

/** One container's `annakv start`: its flags and env, resolved against the help's defaults. */
class NodeCommand {
  readonly values = new Map<string, string | true>();
  readonly problems: string[] = [];

  constructor(
    readonly where: string,
    argv: readonly string[],
    readonly env: ReadonlyMap<string, string>,
    readonly help: StartHelp,
  ) {
    const start =
      argv.slice(0, ENTRYPOINT.length).join(" ") === ENTRYPOINT.join(" ") ? argv.slice(ENTRYPOINT.length) : argv;
    if (start[0] !== SUBCOMMAND)
      this.problems.push(
        `${where}: the command must be \`${SUBCOMMAND} ...\` after the image's entrypoint, got ${JSON.stringify(argv.slice(0, 3))}`,
      );
    this.parse(start.slice(1));
    for (const name of env.keys()) {
      if (name.startsWith("ANNAKV_") && !help.envNames.has(name))
        this.problems.push(`${where}: env ${name} is not a variable of \`annakv start\``);
    }
  }

  private parse(args: readonly string[]): void {
    for (let index = 0; index < args.length; index++) {
      const token = args[index];
      const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(token);
      if (match === null) {
        this.problems.push(`${this.where}: stray argument ${JSON.stringify(token)}`);
        continue;
      }
      const flag = this.help.flags.get(match[1]);
      if (flag === undefined) {
        this.problems.push(`${this.where}: --${match[1]} is not a flag of \`annakv start\``);
      } else if (!flag.takesValue) {
        if (match[2] !== undefined) this.problems.push(`${this.where}: --${match[1]} takes no value`);
        this.values.set(match[1], true);
      } else if (match[2] !== undefined) {
        this.values.set(match[1], match[2]);
      } else if (index + 1 < args.length && !args[index + 1].startsWith("--")) {
        this.values.set(match[1], args[++index]);
      } else {
        this.problems.push(`${this.where}: --${match[1]} needs a value`);
      }
    }
  }

  /** The flag's value, else its env variable's, else the documented default. */
  setting(name: string): string | undefined {
    const given = this.values.get(name);
    if (given !== undefined) return given === true ? "true" : given;
    const flag = this.help.flags.get(name);
    if (flag?.env !== undefined && this.env.has(flag.env)) return this.env.get(flag.env);
    return flag?.defaultValue;
  }

  has(name: string): boolean {
    const flag = this.help.flags.get(name);
    return this.values.has(name) || (flag?.env !== undefined && this.env.has(flag.env));
  }

  number(name: string): number {
    const value = Number(this.setting(name));
    if (!Number.isSafeInteger(value))
      this.problems.push(`${this.where}: --${name} is ${JSON.stringify(this.setting(name))}, not an integer`);
    return value;
  }

  ports(): Map<number, string> {
    return portTable(this.help, this.number("threads"), this.number("port-offset"));
  }

  seeds(): string[] {
    const join = this.values.get("join") ?? this.env.get(this.help.flags.get("join")?.env ?? "");
    return typeof join === "string" && join !== "" ? join.split(",") : [];
  }

  /** Seconds within which the node exits after SIGTERM: leave, then shutdown, then 2 s. */
  stopBoundSeconds(): number {
    return (this.number("leave-timeout-ms") + this.number("shutdown-timeout-ms")) / 1000 + 2;
  }

  /** The node refuses to bind beyond loopback with cluster ports open and no credentials. */
  checkClusterSecurity(): void {
    const host = this.setting("host") ?? "";
    const loopback = host === "localhost" || host === "::1" || /^127\./.test(host);
    const tls = ["cluster-tls-ca", "cluster-tls-cert", "cluster-tls-key"].filter((name) => this.has(name));
    if (tls.length !== 0 && tls.length !== 3)
      this.problems.push(
        `${this.where}: cluster TLS needs all three of --cluster-tls-ca/-cert/-key, got ${tls.join(", ")}`,
      );
    if (!loopback && tls.length === 0 && !this.has("cluster-insecure")) {
      this.problems.push(
        `${this.where}: --host ${host} without cluster TLS files or --cluster-insecure: the node refuses to start`,
      );
    }
  }
}

/** Port numbers written in a health check's command must be the node's metrics port. */
function checkHealthCommand(where: string, command: string, node: NodeCommand): string[] {
  const problems: string[] = [];
  if (!command.includes("/ready"))
    problems.push(`${where}: the health check must ask /ready, got ${JSON.stringify(command)}`);
  const metrics = node.help.base.metrics + node.number("port-offset");
  for (const port of command.match(/\b\d{4,5}\b/g) ?? []) {
    if (Number(port) !== metrics)
      problems.push(`${where}: the health check asks port ${port}, not the metrics port ${metrics}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The files

interface DeployFiles {
  /** YAML files under deploy/, by path from the repository root: their documents. */
  yaml: Map<string, unknown[]>;
  /** Raw text of every file checked, by path. */
  text: Map<string, string>;
}

type Json = Record<string, any>;

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : [full];
  });
}

/** Parses as YAML 1.1 (Kubernetes' reader) and 1.2 (Compose's); a file must read alike in both. */
function parseYaml(file: string, text: string): { documents: unknown[]; problems: string[] } {
  const read = (version: "1.1" | "1.2") => parseAllDocuments(text, { version, merge: true });
  const [old, current] = [read("1.1"), read("1.2")];
  if (!Array.isArray(old) || !Array.isArray(current))
    return { documents: [], problems: [`${file}: not a YAML stream`] };
  const problems = current.flatMap((document) => document.errors.map((error) => `${file}: ${error.message}`));
  const documents = current.map((document) => document.toJS());
  if (JSON.stringify(old.map((document) => document.toJS())) !== JSON.stringify(documents)) {
    problems.push(
      `${file}: reads differently as YAML 1.1 and 1.2 (quote values such as yes/no/on/off, write octal modes in decimal)`,
    );
  }
  return { documents: documents.filter((document) => document !== null), problems };
}

function loadDeployFiles(): { files: DeployFiles; problems: string[] } {
  const files: DeployFiles = { yaml: new Map(), text: new Map() };
  const problems: string[] = [];
  for (const name of ["Dockerfile", ".dockerignore"])
    files.text.set(name, fs.readFileSync(path.join(ROOT, name), "utf8"));
  for (const full of listFiles(DEPLOY_DIR)) {
    const file = path.relative(ROOT, full);
    const text = fs.readFileSync(full, "utf8");
    files.text.set(file, text);
    if (!/\.ya?ml$/.test(file)) continue;
    const parsed = parseYaml(file, text);
    files.yaml.set(file, parsed.documents);
    problems.push(...parsed.problems);
  }
  return { files, problems };
}

function kubernetesObjects(files: DeployFiles): { file: string; object: Json }[] {
  return [...files.yaml]
    .filter(([file]) => file.startsWith("deploy/kubernetes/"))
    .flatMap(([file, documents]) => documents.map((object) => ({ file, object: object as Json })))
    .filter(({ object }) => typeof object.kind === "string" && object.kind !== "Kustomization");
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

function selects(selector: Json | undefined, labels: Json | undefined): boolean {
  const wanted = Object.entries(selector?.matchLabels ?? selector ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

function containerNode(where: string, container: Json, help: StartHelp): NodeCommand {
  // A variable set from the downward API has no value here; $(NAME) stands for it.
  const env = new Map<string, string>(
    (container.env ?? []).map((variable: Json) => [variable.name, variable.value ?? `$(${variable.name})`]),
  );
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])].map(String);
  const node = new NodeCommand(where, argv, env, help);
  const defined = new Set<string>();
  for (const variable of container.env ?? []) defined.add(variable.name);
  for (const arg of argv) {
    for (const [, name] of arg.matchAll(ENV_REFERENCE)) {
      if (!defined.has(name))
        node.problems.push(`${where}: args use $(${name}), which the container's env does not define`);
    }
  }
  node.checkClusterSecurity();
  return node;
}

function checkContainerPorts(where: string, container: Json, ports: Map<number, string>): string[] {
  return (container.ports ?? []).flatMap((port: Json) =>
    ports.has(port.containerPort)
      ? []
      : [
          `${where}: containerPort ${port.containerPort} (${port.name}) is not a port of the node (${[...ports.keys()].join(", ")})`,
        ],
  );
}

function checkProbes(where: string, container: Json, node: NodeCommand): string[] {
  const problems: string[] = [];
  const metrics = node.help.base.metrics + node.number("port-offset");
  const named = new Map<string, number>((container.ports ?? []).map((port: Json) => [port.name, port.containerPort]));
  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const probe = container[kind];
    if (probe === undefined) continue;
    const port = typeof probe.httpGet?.port === "string" ? named.get(probe.httpGet.port) : probe.httpGet?.port;
    if (port !== metrics)
      problems.push(`${where}: ${kind} asks port ${probe.httpGet?.port}, not the metrics port ${metrics}`);
    if (!["/ready", "/status", "/metrics"].includes(probe.httpGet?.path))
      problems.push(`${where}: ${kind} asks ${probe.httpGet?.path}, which the metrics port does not serve`);
  }
  if (container.readinessProbe?.httpGet?.path !== "/ready")
    problems.push(`${where}: readinessProbe must ask /ready, got ${container.readinessProbe?.httpGet?.path}`);
  if (container.livenessProbe === undefined) problems.push(`${where}: no livenessProbe`);
  return problems;
}

/** The cluster's DNS names: seeds are pods of this StatefulSet under its headless Service. */
function checkSeeds(where: string, statefulSet: Json, container: Json, node: NodeCommand): string[] {
  const problems: string[] = [];
  const name = statefulSet.metadata.name;
  const service = statefulSet.spec.serviceName;
  const pattern = new RegExp(`^${name}-(\\d+)\\.${service}\\.([^.]+)\\.svc\\.([a-z0-9.-]+)(?::(\\d+))?$`);
  const seeds = node.seeds();
  if (seeds.length === 0) return [`${where}: no --join: every pod would start a cluster of its own`];
  const suffixes = new Set<string>();
  seeds.forEach((seed, index) => {
    const match = pattern.exec(seed);
    if (match === null) return problems.push(`${where}: seed ${seed} is not ${name}-N.${service}.NAMESPACE.svc.DOMAIN`);
    if (index === 0 && match[1] !== "0")
      problems.push(`${where}: the first seed must be pod 0 (it starts the cluster), got ${seed}`);
    if (Number(match[1]) >= statefulSet.spec.replicas)
      problems.push(`${where}: seed ${seed} names a pod beyond replicas ${statefulSet.spec.replicas}`);
    if (match[4] !== undefined && Number(match[4]) !== node.help.base.membership + node.number("port-offset"))
      problems.push(`${where}: seed ${seed} names a port other than the membership port`);
    suffixes.add(`${match[2]}.svc.${match[3]}`);
  });
  const advertised = node.setting("advertise-host") ?? "";
  const own = new RegExp(`^\\$\\(([A-Z_]+)\\)\\.${service}\\.([^.]+\\.svc\\.[a-z0-9.-]+)$`).exec(advertised);
  const podName = (container.env ?? []).find((variable: Json) => variable.name === own?.[1])?.valueFrom?.fieldRef
    ?.fieldPath;
  if (own === null || podName !== "metadata.name") {
    problems.push(
      `${where}: --advertise-host must be $(POD_NAME).${service}.NAMESPACE.svc.DOMAIN with POD_NAME from the pod's name, got ${JSON.stringify(advertised)}`,
    );
  } else if (suffixes.size !== 1 || !suffixes.has(own[2])) {
    problems.push(
      `${where}: seeds (${[...suffixes].join(", ")}) and --advertise-host (${own[2]}) name different namespaces or domains`,
    );
  }
  return problems;
}

/** The TLS files the args name lie in a mounted Secret that holds them. */
function checkTlsSecret(
  where: string,
  pod: Json,
  container: Json,
  node: NodeCommand,
  secrets: Map<string, Json>,
): string[] {
  const problems: string[] = [];
  for (const flag of ["cluster-tls-ca", "cluster-tls-cert", "cluster-tls-key"]) {
    const file = node.setting(flag);
    if (file === undefined) continue;
    const mount = (container.volumeMounts ?? []).find(
      (candidate: Json) => path.posix.dirname(file) === candidate.mountPath.replace(/\/$/, ""),
    );
    const volume = (pod.volumes ?? []).find((candidate: Json) => candidate.name === mount?.name);
    if (volume?.secret === undefined) {
      problems.push(`${where}: --${flag} ${file} is not in a volume mounted from a Secret`);
      continue;
    }
    const item = (volume.secret.items ?? []).find((candidate: Json) => candidate.path === path.posix.basename(file));
    const key = volume.secret.items === undefined ? path.posix.basename(file) : item?.key;
    const secret = secrets.get(volume.secret.secretName);
    const keys = Object.keys({ ...secret?.data, ...secret?.stringData });
    if (key === undefined)
      problems.push(
        `${where}: --${flag} ${file}: the Secret volume's items map nothing to ${path.posix.basename(file)}`,
      );
    else if (secret === undefined)
      problems.push(`${where}: --${flag} ${file}: no Secret ${volume.secret.secretName} in deploy/kubernetes/`);
    else if (!keys.includes(key))
      problems.push(
        `${where}: --${flag} ${file}: Secret ${volume.secret.secretName} has no key ${key} (has ${keys.join(", ")})`,
      );
  }
  return problems;
}

function checkServices(
  statefulSet: { file: string; object: Json },
  services: { file: string; object: Json }[],
  ports: Map<number, string>,
): string[] {
  const problems: string[] = [];
  const labels = statefulSet.object.spec.template.metadata.labels;
  const selecting = services.filter(({ object }) => selects(object.spec.selector, labels));
  const headless = selecting.find(({ object }) => object.metadata.name === statefulSet.object.spec.serviceName);
  if (headless === undefined) {
    problems.push(
      `${statefulSet.file}: serviceName ${statefulSet.object.spec.serviceName} is not a Service in deploy/kubernetes/ selecting the pods`,
    );
  } else {
    if (headless.object.spec.clusterIP !== "None")
      problems.push(`${headless.file}: Service ${headless.object.metadata.name} must be headless (clusterIP: None)`);
    if (headless.object.spec.publishNotReadyAddresses !== true)
      problems.push(
        `${headless.file}: publishNotReadyAddresses must be true: joiners must be reachable before they are ready`,
      );
    const listed = new Set((headless.object.spec.ports ?? []).map((port: Json) => port.port));
    for (const [port, role] of ports) {
      if ((role === "membership" || role.startsWith("gossip")) && !listed.has(port))
        problems.push(`${headless.file}: cluster port ${port} (${role}) is missing`);
    }
  }
  for (const { file, object } of selecting) {
    for (const port of object.spec.ports ?? []) {
      for (const number of new Set<number>([port.port, port.targetPort ?? port.port])) {
        if (!ports.has(number))
          problems.push(
            `${file}: Service ${object.metadata.name} port ${port.name} (${number}) is not a port of the node`,
          );
      }
    }
  }
  const routing = [...ports].find(([, role]) => role === "routing")![0];
  if (
    !selecting.some(
      ({ object }) =>
        object.spec.clusterIP !== "None" && object.spec.ports?.some((port: Json) => port.port === routing),
    )
  ) {
    problems.push(`${statefulSet.file}: no client Service offers routing port ${routing}`);
  }
  return problems;
}

function checkStatefulSet(
  entry: { file: string; object: Json },
  objects: { file: string; object: Json }[],
  help: StartHelp,
): string[] {
  const { file, object } = entry;
  const pod = object.spec.template.spec;
  const secrets = new Map(
    objects
      .filter(({ object: candidate }) => candidate.kind === "Secret")
      .map(({ object: secret }) => [secret.metadata.name, secret]),
  );
  const services = objects.filter(({ object: candidate }) => candidate.kind === "Service");
  const problems: string[] = [];
  if (!selects(object.spec.selector, object.spec.template.metadata.labels))
    problems.push(`${file}: the selector does not match the pod template's labels`);
  if (object.spec.podManagementPolicy !== "OrderedReady")
    problems.push(`${file}: podManagementPolicy must be OrderedReady (pod 0 first, one at a time)`);
  for (const container of pod.containers) {
    const where = `${file} container ${container.name}`;
    const node = containerNode(where, container, help);
    const ports = node.ports();
    problems.push(
      ...checkContainerPorts(where, container, ports),
      ...checkProbes(where, container, node),
      ...checkSeeds(where, object, container, node),
    );
    problems.push(...checkTlsSecret(where, pod, container, node, secrets), ...checkServices(entry, services, ports));
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (!(grace > node.stopBoundSeconds())) {
      problems.push(
        `${file}: terminationGracePeriodSeconds ${grace} must exceed (--leave-timeout-ms + --shutdown-timeout-ms)/1000 + 2 = ${node.stopBoundSeconds()}`,
      );
    }
    problems.push(...node.problems);
  }
  return problems;
}

function checkKubernetes(files: DeployFiles, help: StartHelp): string[] {
  const objects = kubernetesObjects(files);
  const statefulSets = objects.filter(({ object }) => object.kind === "StatefulSet");
  const problems = statefulSets.length === 0 ? ["deploy/kubernetes/: no StatefulSet"] : [];
  for (const statefulSet of statefulSets) problems.push(...checkStatefulSet(statefulSet, objects, help));
  for (const { file, object } of objects) {
    if (object.kind === "PodDisruptionBudget" && object.spec.maxUnavailable !== 1)
      problems.push(`${file}: maxUnavailable must be 1 (one pod at a time)`);
    if (
      object.kind === "PodDisruptionBudget" &&
      !statefulSets.some(({ object: set }) => selects(object.spec.selector, set.spec.template.metadata.labels))
    ) {
      problems.push(`${file}: PodDisruptionBudget ${object.metadata.name} selects no annakv pods`);
    }
    if (object.kind === "Secret") problems.push(...checkSecretExample(file, object, files.text.get(file) ?? ""));
  }
  return problems.concat(checkKustomization(files));
}

/** The example Secret holds placeholders only, and its kubectl recipe makes the same keys. */
function checkSecretExample(file: string, secret: Json, text: string): string[] {
  const problems: string[] = [];
  const values = { ...secret.data, ...secret.stringData };
  for (const [key, value] of Object.entries(values)) {
    if (!String(value).includes("PLACEHOLDER"))
      problems.push(`${file}: key ${key} must hold a placeholder, not real credentials`);
  }
  const recipe = [...text.matchAll(/--from-file=([^=\s]+)=/g)].map((match) => match[1]).sort();
  if (JSON.stringify(recipe) !== JSON.stringify(Object.keys(values).sort())) {
    problems.push(
      `${file}: the kubectl recipe makes keys ${recipe.join(", ")}, the Secret has ${Object.keys(values).join(", ")}`,
    );
  }
  return problems;
}

function checkKustomization(files: DeployFiles): string[] {
  const file = "deploy/kubernetes/kustomization.yaml";
  const kustomization = files.yaml.get(file)?.[0] as Json | undefined;
  if (kustomization === undefined) return [];
  return (kustomization.resources ?? []).flatMap((resource: string) => {
    const target = path.posix.join("deploy/kubernetes", resource);
    if (!files.yaml.has(target)) return [`${file}: resource ${resource} does not exist`];
    return /example/.test(resource) ? [`${file}: resource ${resource} is an example with placeholders`] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Compose

function seconds(duration: string | number | undefined): number {
  if (typeof duration === "number") return duration / 1e9;
  let total = 0;
  for (const [, amount, unit] of (duration ?? "").matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit]!;
  return total;
}

function composeEnv(service: Json): Map<string, string> {
  const environment = service.environment ?? {};
  if (!Array.isArray(environment))
    return new Map(Object.entries(environment).map(([name, value]) => [name, String(value ?? "")]));
  return new Map(environment.map((entry: string) => [entry.split("=")[0], entry.slice(entry.indexOf("=") + 1)]));
}

function composePorts(where: string, service: Json, ports: Map<number, string>): string[] {
  return (service.ports ?? []).flatMap((entry: string | Json) => {
    // Short syntax: [HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]; an IPv6 host keeps its colons.
    const parts =
      typeof entry === "object"
        ? []
        : String(entry)
            .replace(/\/(tcp|udp)$/, "")
            .split(":");
    const hostIp = typeof entry === "object" ? entry.host_ip : parts.slice(0, -2).join(":") || undefined;
    const target = Number(typeof entry === "object" ? entry.target : parts[parts.length - 1]);
    const problems: string[] = [];
    if (hostIp !== "127.0.0.1")
      problems.push(`${where}: port ${JSON.stringify(entry)} must be published on 127.0.0.1 only`);
    if (!ports.has(target))
      problems.push(`${where}: port ${JSON.stringify(entry)} targets ${target}, not a port of the node`);
    return problems;
  });
}

function checkCompose(files: DeployFiles, help: StartHelp): string[] {
  const compose = files.yaml.get(COMPOSE_FILE)?.[0] as Json | undefined;
  if (compose === undefined) return [`${COMPOSE_FILE}: missing`];
  const problems: string[] = [];
  const nodes = new Map<string, NodeCommand>();
  for (const [name, service] of Object.entries<Json>(compose.services ?? {})) {
    const where = `${COMPOSE_FILE} service ${name}`;
    const argv = [...(Array.isArray(service.entrypoint) ? service.entrypoint : []), ...(service.command ?? [])].map(
      String,
    );
    const node = new NodeCommand(where, argv, composeEnv(service), help);
    node.checkClusterSecurity();
    nodes.set(name, node);
    problems.push(...composePorts(where, service, node.ports()));
    if (node.setting("advertise-host") !== name)
      problems.push(
        `${where}: --advertise-host must be the service's name ${name}, got ${node.setting("advertise-host")}`,
      );
    if (!(seconds(service.stop_grace_period ?? "10s") > node.stopBoundSeconds())) {
      problems.push(
        `${where}: stop_grace_period ${service.stop_grace_period ?? "10s (default)"} must exceed ${node.stopBoundSeconds()} s (leave + shutdown + 2 s)`,
      );
    }
    const health = service.healthcheck?.test;
    if (health === undefined) problems.push(`${where}: no healthcheck`);
    else problems.push(...checkHealthCommand(where, [health].flat().join(" "), node));
  }
  problems.push(...checkComposeSeeds([...nodes]));
  for (const node of nodes.values()) problems.push(...node.problems);
  return problems;
}

/** One node starts the cluster (no --join, or it is its own first seed); the others join it first. */
function checkComposeSeeds(nodes: [string, NodeCommand][]): string[] {
  const problems: string[] = [];
  const starters = nodes.filter(([name, node]) => node.seeds().length === 0 || node.seeds()[0] === name);
  if (starters.length !== 1)
    return [
      `${COMPOSE_FILE}: exactly one node must start the cluster (no --join, or itself first), found ${starters.map(([name]) => name).join(", ") || "none"}`,
    ];
  const [starter] = starters[0];
  for (const [name, node] of nodes) {
    if (name !== starter && node.seeds()[0] !== starter)
      problems.push(
        `${COMPOSE_FILE} service ${name}: --join must start with ${starter}, got ${JSON.stringify(node.seeds())}`,
      );
    for (const seed of node.seeds()) {
      if (!nodes.some(([other]) => other === seed))
        problems.push(`${COMPOSE_FILE} service ${name}: seed ${seed} is not a service`);
    }
  }
  const replication = new Set(nodes.map(([, node]) => node.setting("global-replication")));
  if (replication.size > 1)
    problems.push(
      `${COMPOSE_FILE}: --global-replication differs between nodes (${[...replication].join(", ")}): joins would be refused`,
    );
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  line: number;
  keyword: string;
  rest: string;
}

interface Stage {
  from: string;
  instructions: Instruction[];
}

function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    if (pending === "" && /^\s*(#|$)/.test(raw)) return;
    if (pending === "") startLine = index + 1;
    pending += raw.replace(/\\\s*$/, " ");
    if (/\\\s*$/.test(raw)) return;
    const [, keyword, rest] = /^\s*(\S+)\s*(.*)$/.exec(pending)!;
    pending = "";
    const instruction = { line: startLine, keyword: keyword.toUpperCase(), rest: rest.trim() };
    if (instruction.keyword === "FROM") stages.push({ from: instruction.rest, instructions: [] });
    else stages[stages.length - 1]?.instructions.push(instruction);
  });
  return stages;
}

function jsonForm(file: string, instruction: Instruction | undefined, problems: string[]): string[] {
  if (instruction === undefined) return [];
  try {
    return JSON.parse(instruction.rest.replace(/^--\S+\s+/g, ""));
  } catch {
    problems.push(`${file}:${instruction.line}: ${instruction.keyword} must be in JSON (exec) form`);
    return [];
  }
}

function checkExpose(file: string, stage: Stage, help: StartHelp): string[] {
  const ports = portTable(help, help.maxThreads, 0);
  return stage.instructions
    .filter(({ keyword }) => keyword === "EXPOSE")
    .flatMap((instruction) => instruction.rest.split(/\s+/).map((item) => ({ instruction, item })))
    .flatMap(({ instruction, item }) => {
      const [low, high = low] = item
        .replace(/\/tcp$/, "")
        .split("-")
        .map(Number);
      const outside: number[] = [];
      for (let port = low; port <= high; port++) if (!ports.has(port)) outside.push(port);
      return outside.length === 0
        ? []
        : [
            `${file}:${instruction.line}: EXPOSE ${item} includes ${outside.slice(0, 3).join(", ")}${outside.length > 3 ? ", ..." : ""}, not ports of the node`,
          ];
    });
}

function checkDockerfile(files: DeployFiles, help: StartHelp): string[] {
  const file = "Dockerfile";
  const stages = dockerfileStages(files.text.get(file) ?? "");
  if (stages.length < 2) return [`${file}: must be multi-stage (build, then runtime)`];
  const problems: string[] = [];
  const [build, final] = [stages[0], stages[stages.length - 1]];
  const runs = (stage: Stage) =>
    stage.instructions
      .filter(({ keyword }) => keyword === "RUN")
      .map(({ rest }) => rest)
      .join("\n");
  if (
    !/^node:20-bookworm\b(?!-slim)/.test(build.from) ||
    !/npm ci/.test(runs(build)) ||
    !/npm run build/.test(runs(build))
  ) {
    problems.push(
      `${file}: the build stage must be node:20-bookworm running npm ci and npm run build, got FROM ${build.from}`,
    );
  }
  if (!/^node:20-bookworm-slim\b/.test(final.from))
    problems.push(`${file}: the final stage must be node:20-bookworm-slim, got FROM ${final.from}`);
  if (!/npm ci --omit=dev --ignore-scripts/.test(runs(final)))
    problems.push(`${file}: the final stage must install with npm ci --omit=dev --ignore-scripts`);
  if (/apt-get|build-essential|\bgcc\b|\bmake\b|python3/.test(runs(final)))
    problems.push(`${file}: the final stage must not install compilers or build tools`);
  const copies = final.instructions
    .filter(({ keyword }) => keyword === "COPY")
    .map(({ rest }) => rest)
    .join("\n");
  for (const needed of ["dist", "build/annakv.wasm", "proto", "package.json"]) {
    if (!new RegExp(`(^|[\\s/])${needed.replace(/\./g, "\\.")}(\\s|$)`, "m").test(copies))
      problems.push(`${file}: the final stage does not copy ${needed}`);
  }
  const last = (keyword: string) => final.instructions.filter((instruction) => instruction.keyword === keyword).pop();
  if (last("USER")?.rest !== "node")
    problems.push(`${file}: the final stage must run as USER node, got ${last("USER")?.rest}`);
  const entrypoint = jsonForm(file, last("ENTRYPOINT"), problems);
  if (JSON.stringify(entrypoint) !== JSON.stringify(ENTRYPOINT))
    problems.push(`${file}: ENTRYPOINT must be ${JSON.stringify(ENTRYPOINT)}, got ${JSON.stringify(entrypoint)}`);
  const node = new NodeCommand(`${file} CMD`, jsonForm(file, last("CMD"), problems), new Map(), help);
  problems.push(...node.problems, ...checkExpose(file, final, help));
  const health = last("HEALTHCHECK");
  if (health !== undefined)
    problems.push(...checkHealthCommand(`${file}:${health.line} HEALTHCHECK`, health.rest, node));
  return problems;
}

function checkDockerignore(files: DeployFiles): string[] {
  const entries = new Set(
    (files.text.get(".dockerignore") ?? "").split("\n").map((line) => line.trim().replace(/^\/|\/$/g, "")),
  );
  return ["node_modules", "dist", "build", ".git", "bench/results"]
    .filter((entry) => !entries.has(entry))
    .map((entry) => `.dockerignore: does not leave out ${entry}`);
}

/** Environment variables named anywhere (comments and docs too) must be the node's. */
function checkEnvNames(files: DeployFiles, help: StartHelp): string[] {
  return [...files.text].flatMap(([file, text]) =>
    [...new Set(text.match(/\bANNAKV_[A-Z0-9_]*[A-Z0-9]\b/g) ?? [])]
      .filter((name) => !help.envNames.has(name))
      .map((name) => `${file}: ${name} is not a variable of \`annakv start\``),
  );
}

function checkAll(files: DeployFiles, help: StartHelp): string[] {
  return [
    ...checkDockerfile(files, help),
    ...checkDockerignore(files),
    ...checkCompose(files, help),
    ...checkKubernetes(files, help),
    ...checkEnvNames(files, help),
  ];
}

// ---------------------------------------------------------------------------------------------

describe("deployment files", () => {
  let help: StartHelp;
  let files: DeployFiles;
  let loadProblems: string[];

  beforeAll(() => {
    help = parseStartHelp(startHelpText());
    ({ files, problems: loadProblems } = loadDeployFiles());
  });

  it("reads the node's flags, variables and port layout from `annakv start --help`", () => {
    expect(help.flags.get("threads")).toMatchObject({ takesValue: true, env: "ANNAKV_THREADS" });
    expect(help.flags.get("cluster-insecure")).toMatchObject({ takesValue: false, env: "ANNAKV_CLUSTER_INSECURE" });
    expect(help.flags.get("leave-timeout-ms")?.defaultValue).toMatch(/^\d+$/);
    expect(help.maxThreads).toBeGreaterThan(0);
    expect([...portTable(help, 2, 10).keys()].sort()).toEqual(
      [
        help.base.request,
        help.base.request + 1,
        help.base.gossip,
        help.base.gossip + 1,
        help.base.membership,
        help.base.metrics,
        help.base.routing,
      ]
        .map((port) => port + 10)
        .sort(),
    );
  });

  it("says to build first when the CLI is missing", () => {
    expect(() => startHelpText(path.join(ROOT, "dist/cli/absent.js"))).toThrow(
      "dist/cli/absent.js is missing: run `npm run build` first",
    );
  });

  it("tells a YAML 1.1 reading from a 1.2 one", () => {
    expect(parseYaml("example.yaml", "defaultMode: 0440\nenabled: on\n").problems).toEqual([
      expect.stringMatching(/^example\.yaml: reads differently as YAML 1\.1 and 1\.2/),
    ]);
    expect(parseYaml("example.yaml", 'defaultMode: 288\nenabled: "on"\n').problems).toEqual([]);
  });

  it("parses every YAML file under deploy/, alike as YAML 1.1 and 1.2", () => {
    expect(loadProblems).toEqual([]);
    expect([...files.yaml.keys()].sort()).toEqual(
      expect.arrayContaining([
        COMPOSE_FILE,
        "deploy/kubernetes/statefulset.yaml",
        "deploy/kubernetes/service-headless.yaml",
      ]),
    );
  });

  it("Dockerfile and .dockerignore agree with the node", () => {
    expect([...checkDockerfile(files, help), ...checkDockerignore(files)]).toEqual([]);
  });

  it("deploy/compose.yaml agrees with the node", () => {
    expect(checkCompose(files, help)).toEqual([]);
  });

  it("deploy/kubernetes/ agrees with the node", () => {
    expect(checkKubernetes(files, help)).toEqual([]);
  });

  it("names only the node's environment variables, in every file", () => {
    expect(checkEnvNames(files, help)).toEqual([]);
  });

  describe("fails on a broken copy", () => {
    const statefulSetFile = "deploy/kubernetes/statefulset.yaml";
    const container = (copy: DeployFiles) =>
      (copy.yaml.get(statefulSetFile)![0] as Json).spec.template.spec.containers[0];
    const args = (copy: DeployFiles): string[] => container(copy).args;
    const composeService = (copy: DeployFiles, name: string) =>
      (copy.yaml.get(COMPOSE_FILE)![0] as Json).services[name];
    const breakages: [string, (copy: DeployFiles) => void, RegExp][] = [
      [
        "a misspelt flag",
        (copy) => (args(copy)[args(copy).indexOf("--threads")] = "--thread"),
        /statefulset\.yaml container annakv: --thread is not a flag/,
      ],
      [
        "an unknown variable",
        (copy) => container(copy).env.push({ name: "ANNAKV_THREAD", value: "4" }),
        /statefulset\.yaml container annakv: env ANNAKV_THREAD is not a variable/,
      ],
      [
        "a port past --threads",
        (copy) => container(copy).ports.push({ name: "gossip-4", containerPort: 6254 }),
        /statefulset\.yaml container annakv: containerPort 6254 \(gossip-4\) is not a port/,
      ],
      [
        "readiness on /status",
        (copy) => (container(copy).readinessProbe.httpGet.path = "/status"),
        /readinessProbe must ask \/ready/,
      ],
      [
        "a grace period shorter than the leave",
        (copy) => ((copy.yaml.get(statefulSetFile)![0] as Json).spec.template.spec.terminationGracePeriodSeconds = 60),
        /statefulset\.yaml: terminationGracePeriodSeconds 60 must exceed/,
      ],
      [
        "a longer leave than the grace period",
        (copy) => (args(copy)[args(copy).indexOf("--leave-timeout-ms") + 1] = "90000"),
        /terminationGracePeriodSeconds \d+ must exceed .* = 97/,
      ],
      [
        "another pod as the first seed",
        (copy) => {
          const join = args(copy).indexOf("--join") + 1;
          args(copy)[join] = args(copy)[join].split(",").reverse().join(",");
        },
        /the first seed must be pod 0/,
      ],
      [
        "a seed outside the headless Service",
        (copy) => {
          const join = args(copy).indexOf("--join") + 1;
          args(copy)[join] += ",annakv-1.annakv.default.svc.cluster.local";
        },
        /seed annakv-1\.annakv\.default\.svc\.cluster\.local is not/,
      ],
      [
        "a serviceName with no headless Service",
        (copy) => ((copy.yaml.get(statefulSetFile)![0] as Json).spec.serviceName = "annakv-peers"),
        /serviceName annakv-peers is not a Service/,
      ],
      [
        "a TLS file the Secret lacks",
        (copy) => (args(copy)[args(copy).indexOf("--cluster-tls-key") + 1] = "/etc/annakv/tls/tls.key"),
        /--cluster-tls-key \/etc\/annakv\/tls\/tls\.key: the Secret volume's items map nothing/,
      ],
      [
        "a Service port of no node port",
        (copy) =>
          (copy.yaml.get("deploy/kubernetes/service-client.yaml")![0] as Json).spec.ports.push({
            name: "http",
            port: 8080,
          }),
        /service-client\.yaml: Service annakv port http \(8080\) is not a port/,
      ],
      [
        "compose publishing on every interface",
        (copy) => (composeService(copy, "annakv-1").ports[0] = "6450:6450"),
        /compose\.yaml service annakv-1: port "6450:6450" must be published on 127\.0\.0\.1 only/,
      ],
      [
        "compose node 2 joining itself first",
        (copy) => {
          const command = composeService(copy, "annakv-2").command;
          command[command.indexOf("--join") + 1] = "annakv-2,annakv-1";
        },
        /exactly one node must start the cluster/,
      ],
      [
        "compose without --cluster-insecure",
        (copy) => {
          const command: string[] = composeService(copy, "annakv-3").command;
          command.splice(command.indexOf("--cluster-insecure"), 1);
        },
        /service annakv-3: --host 0\.0\.0\.0 without cluster TLS files or --cluster-insecure/,
      ],
      [
        "compose's default stop timeout",
        (copy) => delete composeService(copy, "annakv-2").stop_grace_period,
        /service annakv-2: stop_grace_period 10s \(default\) must exceed 67 s/,
      ],
      [
        "a Dockerfile exposing a port of no node",
        (copy) => copy.text.set("Dockerfile", copy.text.get("Dockerfile")!.replace(/^EXPOSE .*$/m, "EXPOSE 6450 6300")),
        /Dockerfile:\d+: EXPOSE 6300 includes 6300/,
      ],
      [
        "a Dockerfile CMD with a wrong flag",
        (copy) =>
          copy.text.set(
            "Dockerfile",
            copy.text.get("Dockerfile")!.replace(/^CMD .*$/m, 'CMD ["start", "--bind", "0.0.0.0"]'),
          ),
        /Dockerfile CMD: --bind is not a flag/,
      ],
    ];

    it.each(breakages)("%s", (_name, breakIt, expected) => {
      const copy: DeployFiles = { yaml: structuredClone(files.yaml), text: new Map(files.text) };
      breakIt(copy);
      const problems = checkAll(copy, help);
      expect(problems.join("\n")).toMatch(expected);
    });
  });
});
