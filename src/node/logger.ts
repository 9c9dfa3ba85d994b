import pino, { Logger } from "pino";
import type { LogLevel } from "./options";

/** JSON lines for machines; pino-pretty when a person watches the terminal. */
export function createLogger(level: LogLevel): Logger {
  if (process.stdout.isTTY) {
    return pino({ level, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino({ level });
}
