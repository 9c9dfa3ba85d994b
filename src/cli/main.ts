#!/usr/bin/env node
/** The `annakv` binary: a thin shell over the library (start, put, get, status). */
import { Command, CommanderError } from "commander";
import { OptionError } from "../node/options";
import { certsCommand } from "./certs";
import { EXIT } from "./common";
import { devClusterCommand } from "./dev-cluster";
import { getCommand, putCommand } from "./key-commands";
import { startCommand } from "./start";
import { statusCommand } from "./status";

async function main(argv: string[]): Promise<void> {
  const program = new Command("annakv")
    .description("annakv: a coordination-free key-value store after Berkeley's Anna")
    .version(require("../../package.json").version as string)
    .exitOverride()
    .addCommand(startCommand())
    .addCommand(putCommand())
    .addCommand(getCommand())
    .addCommand(statusCommand())
    .addCommand(certsCommand())
    .addCommand(devClusterCommand());
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other parse failure is a usage error.
      process.exit(error.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
    }
    if (error instanceof OptionError) {
      process.stderr.write(`annakv: ${error.message}\n`);
      process.exit(EXIT.USAGE);
    }
    process.stderr.write(`annakv: ${(error as Error).message}\n`);
    process.exit(EXIT.UNAVAILABLE);
  }
}

void main(process.argv);
