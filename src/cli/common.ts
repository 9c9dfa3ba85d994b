import { Command, InvalidArgumentError, Option } from "commander";
import { parseHost } from "../protocol/zmtp/endpoint";

/** Exit codes scripts can rely on (docs/operations.md, "CLI"). */
export const EXIT = {
  OK: 0,
  /** `get` of a key that no replica holds. */
  NOT_FOUND: 1,
  /** Bad command line or option value. */
  USAGE: 2,
  /** The node refused the request (e.g. a lattice type conflict). */
  REFUSED: 3,
  /** The node did not answer in time, or could not be reached (or `start` could not bind). */
  UNAVAILABLE: 4,
  /** `start`: the graceful stop overran --shutdown-timeout-ms and the process was ended. */
  SHUTDOWN_OVERRAN: 5,
  /** `start`: an actor's thread died (an exception no handler contained); the node stopped serving. Restart it. */
  ACTOR_DIED: 6,
} as const;

export function integerOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${JSON.stringify(value)} is not an integer.`);
  return Number(value);
}

export function numberOption(value: string): number {
  const number = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(number))
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a number.`);
  return number;
}

/** A node's host, IPv6 with or without brackets (`::1`, `[::1]`). */
export function hostOption(value: string): string {
  const host = parseHost(value);
  if (host === undefined) throw new InvalidArgumentError(`${JSON.stringify(value)} is not an IP address or host name.`);
  return host;
}

export function onOffOption(value: string): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new InvalidArgumentError(`${JSON.stringify(value)} is not on or off.`);
}

/** A comma-separated list (empty items dropped). */
export function listOption(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** `--host` and `--port-offset`: which node a client command talks to (the env names match `annakv start`'s). */
export function nodeAddressOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--host <address>", "the node's host").env("ANNAKV_HOST").default("127.0.0.1").argParser(hostOption),
    )
    .addOption(
      new Option("--port-offset <n>", "the node's port offset")
        .env("ANNAKV_PORT_OFFSET")
        .default(0)
        .argParser(integerOption),
    );
}
