/**
 * ZeroMQ endpoint strings (`tcp://HOST:PORT`, `ipc://PATH`) as Node.js `net` addresses.
 * `inproc://` has no meaning between processes and is not an endpoint here.
 */

import { isIP, isIPv6 } from "node:net";

export type Endpoint = { transport: "tcp"; host: string; port: number } | { transport: "ipc"; path: string };

/** Longest endpoint string accepted: a reply address is client input. */
export const ENDPOINT_CHARS_MAX = 200;
const PORT_MAX = 65_535;
const TCP = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_*]+):(\d{1,5}|\*)$/;

/**
 * The endpoint an address names, or undefined when it names none this transport reaches.
 * `bind` allows what only a listener may use: host `*` (every interface) and port `*` or 0
 * (any free port).
 */
export function parseEndpoint(address: string, bind = false): Endpoint | undefined {
  if (address.length > ENDPOINT_CHARS_MAX) return undefined;
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
  if (port > PORT_MAX) return undefined;
  if (!bind && (host === "*" || port === 0)) return undefined;
  return { transport: "tcp", host: host === "*" ? "0.0.0.0" : host, port };
}

const HOST_NAME = /^[A-Za-z0-9.\-_]+$/;

/**
 * A host as sockets take it (an IPv6 literal without brackets) from the way a user may
 * write it (`::1` or `[::1]`, an IPv4 address, a name); undefined when it is none of these.
 */
export function parseHost(text: string): string | undefined {
  const bracketed = /^\[(.+)\]$/.exec(text);
  if (bracketed !== null) return isIPv6(bracketed[1]) ? bracketed[1] : undefined;
  return isIP(text) !== 0 || HOST_NAME.test(text) ? text : undefined;
}

/** The endpoint string of a listener, as a client would connect to it. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.transport === "ipc") return `ipc://${endpoint.path}`;
  return tcpAddress(endpoint.host, endpoint.port);
}

/**
 * A host as it stands before `:PORT` in an address or URL: an IPv6 literal in brackets
 * (`[::1]`), anything else as it is.
 */
export function hostInAddress(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** `tcp://HOST:PORT`; port `*` (any free port) only for binding. */
export function tcpAddress(host: string, port: number | "*"): string {
  return `tcp://${hostInAddress(host)}:${port}`;
}
