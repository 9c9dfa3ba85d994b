/**
 * Mutual TLS for cluster links (membership and gossip between nodes): the options both
 * sides of a ZMTP connection take, in one place, and the loading of a node's credentials.
 * A peer is trusted when it holds a certificate signed by the cluster's CA, and only then:
 * the CA given replaces the system's roots, and both sides must present a certificate.
 */
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ConnectionOptions, TlsOptions } from "node:tls";

/** PEM text: the cluster's CA certificate, and this node's certificate and private key, signed by that CA. */
export interface ClusterTls {
  ca: string;
  cert: string;
  key: string;
}

export interface ClusterTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** Every cluster node runs this code: nothing older needs to be spoken, and 1.3 encrypts the certificates too. */
const TLS_VERSION_MIN = "TLSv1.3";

/**
 * A listener's options: a peer without a certificate from the CA is refused in the
 * handshake, before any of its bytes reach ZMTP. The handshake is bounded like ZMTP's.
 */
export function tlsServerOptions(credentials: ClusterTls, handshakeTimeoutMs: number): TlsOptions {
  const { ca, cert, key } = credentials;
  return {
    ca,
    cert,
    key,
    minVersion: TLS_VERSION_MIN,
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/**
 * A connection's options. The server's identity is "holds a certificate signed by the
 * cluster's CA", not a host name: nodes are often addressed by IP, and may all share one
 * certificate, so the host-name check is turned off while the chain is still verified.
 */
export function tlsClientOptions(credentials: ClusterTls, host: string, port: number): ConnectionOptions {
  const { ca, cert, key } = credentials;
  return {
    host,
    port,
    ca,
    cert,
    key,
    minVersion: TLS_VERSION_MIN,
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  };
}

/** Why a peer's TLS handshake failed, in one line starting `TLS:` (ZmtpPullServerOptions.onBadPeer). */
export function tlsFailure(error: Error & { code?: string; reason?: string }, handshakeTimeoutMs: number): string {
  if (error.code === "ERR_TLS_HANDSHAKE_TIMEOUT") return `TLS: no TLS handshake within ${handshakeTimeoutMs} ms`;
  // A client that does not trust this node's certificate hangs up without saying why.
  if (error.code === "ECONNRESET") return "TLS: peer hung up during the handshake (is its CA this cluster's?)";
  // OpenSSL's message is a long line of codes and source paths around this short reason.
  return `TLS: ${error.reason ?? error.message}`;
}

/**
 * Reads a node's credentials and checks them before any connection is tried, so that a
 * wrong file is named at start-up instead of surfacing as refused peers: each file
 * readable, the certificate's key the one given, the certificate signed by the CA, both in
 * their validity period. Throws an Error whose one-line message names the file at fault.
 * Only the first certificate of each file is checked (TLS itself takes them all).
 */
export function loadClusterTls(files: ClusterTlsFiles): ClusterTls {
  const credentials: ClusterTls = {
    ca: readPem(files.caFile),
    cert: readPem(files.certFile),
    key: readPem(files.keyFile),
  };
  const ca = parseCertificate(credentials.ca, files.caFile);
  const cert = parseCertificate(credentials.cert, files.certFile);
  const key = parsePrivateKey(credentials.key, files.keyFile);
  if (!ca.ca) throw new Error(`${files.caFile}: not a CA certificate (its basic constraints say CA:FALSE)`);
  if (!cert.checkPrivateKey(key))
    throw new Error(`${files.keyFile}: not the private key of the certificate in ${files.certFile}`);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new Error(`${files.certFile}: not signed by the CA in ${files.caFile} (issuer ${oneLine(cert.issuer)})`);
  }
  checkValidity(ca, files.caFile);
  checkValidity(cert, files.certFile);
  return credentials;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function parseCertificate(pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new Error(`${file}: not a PEM certificate`);
  }
}

function parsePrivateKey(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // An encrypted key lands here too: a node starts unattended, so its key has no passphrase.
    throw new Error(`${file}: not an unencrypted PEM private key`);
  }
}

function checkValidity(certificate: X509Certificate, file: string): void {
  const now = new Date();
  if (now < new Date(certificate.validFrom)) throw new Error(`${file}: not valid before ${certificate.validFrom}`);
  if (now > new Date(certificate.validTo)) throw new Error(`${file}: expired on ${certificate.validTo}`);
}

/** A distinguished name as X509Certificate gives it has one attribute per line. */
function oneLine(name: string): string {
  return name.split("\n").join(", ");
}
