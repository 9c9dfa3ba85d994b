/**
 * ZeroMQ endpoint strings (`tcp://HOST:PORT`, `ipc://PATH`) as Node.js `net` addresses.
 * `inproc://` has no meaning between processes and is not an endpoint here.
 */

export type Endpoint = { transport: "tcp"; host: string; port: number } | { transport: "ipc"; path: string };

/** Longest endpoint string accepted: a reply address is client input. */
export const MAX_ENDPOINT_CHARS = 200;
const MAX_PORT = 65_535;
const TCP = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_*]+):(\d{1,5}|\*)$/;

/**
 * The endpoint an address names, or undefined when it names none this transport reaches.
 * `bind` allows what only a listener may use: host `*` (every interface) and port `*` or 0
 * (any free port).
 */
export function parseEndpoint(address: string, bind = false): Endpoint | undefined {
  if (address.length > MAX_ENDPOINT_CHARS) return undefined;
  if (address.startsWith("ipc://")) {
    const path = address.slice("ipc://".length);
    // libzmq's abstract-namespace sockets ("ipc://@name") cannot be reached: Node 20's pipes
    // take a path up to its first NUL byte, which is where an abstract name starts.
    if (path.length === 0 || path.startsWith("@")) return undefined;
    return { transport: "ipc", path };
  }
  const match = TCP.exec(address);
  if (match === null) return undefined;
  const [, hostPart, portPart] = match;
  const host = hostPart.startsWith("[") ? hostPart.slice(1, -1) : hostPart;
  const port = portPart === "*" ? 0 : Number(portPart);
  if (port > MAX_PORT) return undefined;
  if (!bind && (host === "*" || port === 0)) return undefined;
  return { transport: "tcp", host: host === "*" ? "0.0.0.0" : host, port };
}

/** The endpoint string of a listener, as a client would connect to it. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.transport === "ipc") return `ipc://${endpoint.path}`;
  return `tcp://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}
