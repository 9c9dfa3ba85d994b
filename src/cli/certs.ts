/** `annakv certs DIR`: a cluster CA and a node certificate signed by it, the files `annakv start --cluster-tls-*` reads. */
import fs from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import {
  ClusterCredentials,
  DEFAULT_VALIDITY_DAYS,
  generateClusterCredentials,
  VALIDITY_DAYS_MAX,
} from "../protocol/zmtp/credentials";
import { EXIT, integerOption } from "./common";

/** Private keys are readable by their owner only; certificates are public. */
const KEY_FILE_MODE = 0o600;
const CERT_FILE_MODE = 0o644;
/** The files written, in this order, by the part of the credentials each holds. */
const FILES: Record<keyof ClusterCredentials, { name: string; mode: number }> = {
  caCert: { name: "ca.crt", mode: CERT_FILE_MODE },
  caKey: { name: "ca.key", mode: KEY_FILE_MODE },
  nodeCert: { name: "node.crt", mode: CERT_FILE_MODE },
  nodeKey: { name: "node.key", mode: KEY_FILE_MODE },
};

interface CertsFlags {
  days: number;
  force?: boolean;
}

function daysOption(value: string): number {
  const days = integerOption(value);
  if (days < 1 || days > VALIDITY_DAYS_MAX)
    throw new InvalidArgumentError(`${days} is not from 1 to ${VALIDITY_DAYS_MAX}.`);
  return days;
}

export function certsCommand(): Command {
  return new Command("certs")
    .description(
      "make credentials for mutual TLS between the nodes of a cluster: a CA (DIR/ca.crt, DIR/ca.key) and a node " +
        "certificate signed by it (DIR/node.crt, DIR/node.key) that every node may share; prints the flags for `annakv start`",
    )
    .argument("<dir>", "the folder to write them to (made if missing)")
    .option(
      "--days <n>",
      `how long both certificates are valid, 1 to ${VALIDITY_DAYS_MAX} days`,
      daysOption,
      DEFAULT_VALIDITY_DAYS,
    )
    .option("--force", "overwrite the four files if they exist")
    .action(async (dir: string, flags: CertsFlags) => {
      process.exitCode = await writeCredentials(dir, flags);
    });
}

async function writeCredentials(dir: string, flags: CertsFlags): Promise<number> {
  const parts = Object.keys(FILES) as (keyof ClusterCredentials)[];
  const files = Object.fromEntries(parts.map((part) => [part, path.resolve(dir, FILES[part].name)])) as Record<
    keyof ClusterCredentials,
    string
  >;
  const existing = Object.values(files).filter((file) => fs.existsSync(file));
  if (existing.length > 0 && flags.force !== true) {
    process.stderr.write(`annakv certs: ${existing.join(", ")} already exist (pass --force to overwrite)\n`);
    return EXIT.USAGE;
  }
  const credentials = await generateClusterCredentials({ days: flags.days });
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const part of parts) {
      // Removed and made anew, so that the mode below holds whatever an old file's was.
      fs.rmSync(files[part], { force: true });
      fs.writeFileSync(files[part], credentials[part], { flag: "wx", mode: FILES[part].mode });
    }
  } catch (error) {
    process.stderr.write(`annakv certs: ${(error as Error).message}\n`);
    return EXIT.USAGE;
  }
  process.stdout.write(
    [
      `wrote ${Object.values(files).join(", ")} (valid for ${flags.days} days)`,
      "start every node of the cluster with:",
      `  --cluster-tls-ca ${files.caCert} --cluster-tls-cert ${files.nodeCert} --cluster-tls-key ${files.nodeKey}`,
      `nodes do not need ${files.caKey}: it signs further node certificates; keep it apart`,
      "",
    ].join("\n"),
  );
  return EXIT.OK;
}
