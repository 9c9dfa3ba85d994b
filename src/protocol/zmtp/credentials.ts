/**
 * Credentials for a cluster's mutual TLS (tls.ts): a self-signed CA and one node
 * certificate signed by it. Every node may share that one certificate and key (one
 * Kubernetes Secret); certificates of their own, signed by the same CA (with openssl, say),
 * work as well. Node's crypto cannot build certificates; @peculiar/x509 does, on Node's
 * WebCrypto.
 */
import { createPrivateKey, webcrypto } from "node:crypto";
import type * as X509 from "@peculiar/x509";

export interface ClusterCredentials {
  caCert: string;
  caKey: string;
  nodeCert: string;
  nodeKey: string;
}

export interface ClusterCredentialsOptions {
  /** How long both certificates are valid, in whole days. */
  days?: number;
  /** When their validity begins (backdating tolerates clocks behind this one's). */
  validFrom?: Date;
}

/** As the CA/Browser Forum's old maximum for server certificates: a rotation every two years or so. */
export const DEFAULT_VALIDITY_DAYS = 825;
/** Ten years: the longest a leaked key stays useful; a cluster rotates its CA before that. */
export const VALIDITY_DAYS_MAX = 3650;
const DAY_MS = 24 * 60 * 60 * 1000;
/** ECDSA P-256: small keys and fast handshakes, supported by every TLS 1.3 stack. */
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const CA_NAME = "CN=annakv cluster CA";
const NODE_NAME = "CN=annakv-node";
/** Node's WebCrypto, named as the DOM type the library takes. */
const crypto = webcrypto as unknown as Crypto;

/** A fresh CA (ECDSA P-256, self-signed) and a node certificate it signed, valid for `days` from `validFrom`, in PEM. */
export async function generateClusterCredentials(options: ClusterCredentialsOptions = {}): Promise<ClusterCredentials> {
  const days = options.days ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > VALIDITY_DAYS_MAX)
    throw new RangeError(`days must be a whole number from 1 to ${VALIDITY_DAYS_MAX}, not ${days}`);
  const notBefore = options.validFrom ?? new Date();
  const validity: Validity = { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
  const x509 = await loadX509();
  const caKeys = await generateKeys();
  const nodeKeys = await generateKeys();
  const caCert = await caCertificate(x509, caKeys, validity);
  const nodeCert = await nodeCertificate(x509, caCert, caKeys.privateKey, nodeKeys.publicKey, validity);
  return {
    caCert: caCert.toString("pem"),
    caKey: await privateKeyPem(caKeys),
    nodeCert: nodeCert.toString("pem"),
    nodeKey: await privateKeyPem(nodeKeys),
  };
}

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * Loaded on first use: it takes ~200 ms to load and needs a global Reflect polyfill
 * (reflect-metadata, first), neither of which a node or the other commands need.
 */
async function loadX509(): Promise<typeof X509> {
  await import("reflect-metadata");
  return import("@peculiar/x509");
}

async function caCertificate(
  x509: typeof X509,
  keys: CryptoKeyPair,
  validity: Validity,
): Promise<X509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned(
    {
      name: CA_NAME,
      keys,
      signingAlgorithm: KEY_ALGORITHM,
      ...validity,
      extensions: [
        // pathLength 0: the CA signs node certificates only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        // What the node certificate's authority key identifier points at (RFC 5280 asks it of every CA).
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
}

async function nodeCertificate(
  x509: typeof X509,
  ca: X509.X509Certificate,
  caKey: CryptoKey,
  publicKey: CryptoKey,
  validity: Validity,
): Promise<X509.X509Certificate> {
  return x509.X509CertificateGenerator.create(
    {
      subject: NODE_NAME,
      issuer: ca.subject,
      publicKey,
      signingKey: caKey,
      signingAlgorithm: KEY_ALGORITHM,
      ...validity,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        // A node both listens and connects: one certificate for either end of a link.
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
      ],
    },
    crypto,
  );
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}
