/**
 * The stack's PostgreSQL CA and the database's server certificate, where probatio holds both ends of the
 * application's connection across a public network (the classic VPS phases): the application verifies the server
 * (libpq's sslmode=verify-full) against this CA, which signs nothing else.
 *
 * How the CA is made, and where its key lives: both keys are Ed25519, derived from the stack's database password
 * (its `postgres-tls` derivation), which the stack's configuration keeps encrypted. The CA key is never written
 * anywhere: it exists in the memory of the program that signs, on the operator's machine, for the time of a run. The
 * server's key is written on the database machine only (0600, PostgreSQL's and pgBouncer's), and in the stack's state
 * as part of that machine's configuration, a secret. Ed25519 signatures are deterministic and the validity dates
 * fixed, so every run renders the same certificates (no delivery for nothing); changing the database password rotates
 * the CA and every certificate it signed, delivered in place like any other change.
 */
import { createHash, createPrivateKey, createPublicKey, webcrypto } from "crypto";
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIpv4Address } from "../cidr";

/** Where the application's machines keep the CA certificate (named in DATABASE_URL's sslrootcert). */
export const DATABASE_CA_FILE = "/etc/probatio/postgres-ca.crt";
/** Validity of the CA and its certificates: fixed (deterministic rendering), ten years from the first release. */
export const DATABASE_TLS_VALIDITY = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2036-01-01T00:00:00Z") };

/** PKCS#8 DER of an Ed25519 private key: this fixed prefix, then the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ED25519 = { name: "Ed25519" } as const;

async function keyPair(seed: Buffer): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; privatePem: string }> {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const nodeKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const spki = createPublicKey(nodeKey).export({ type: "spki", format: "der" });
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  return {
    privateKey: await subtle.importKey("pkcs8", der, ED25519, true, ["sign"]),
    publicKey: await subtle.importKey("spki", spki, ED25519, true, ["verify"]),
    privatePem: nodeKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

const seedOf = (secret: string, purpose: string) => createHash("sha256").update(`probatio-postgres-tls|${purpose}|${secret}`).digest();
/** A positive serial number, from what the certificate is for (stable across runs). */
const serialOf = (purpose: string) => "01" + createHash("sha256").update(purpose).digest("hex").slice(0, 30);

async function ca(secret: string, stack: string) {
  const keys = await keyPair(seedOf(secret, "ca"));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialOf(`ca|${stack}`),
    name: `CN=probatio ${stack} PostgreSQL CA`,
    ...DATABASE_TLS_VALIDITY,
    signingAlgorithm: ED25519,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, cert };
}

/** The CA's certificate (PEM): what the application's machines trust. */
export async function databaseCaCert(secret: string, stack: string): Promise<string> {
  return (await ca(secret, stack)).cert.toString("pem") + "\n";
}

/** A server certificate for `name`, valid for its host name and addresses, signed by the stack's CA; its key (PEM). */
export async function databaseServerCert(
  secret: string,
  stack: string,
  name: string,
  addresses: readonly string[],
): Promise<{ readonly cert: string; readonly key: string }> {
  const authority = await ca(secret, stack);
  const keys = await keyPair(seedOf(secret, `server|${name}`));
  const names = [
    { type: "dns" as const, value: name },
    ...addresses.map((a) => ({ type: isIpv4Address(a) || a.includes(":") ? ("ip" as const) : ("dns" as const), value: a })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialOf(`server|${stack}|${name}|${addresses.join(",")}`),
    subject: `CN=${name}`,
    issuer: authority.cert.subject,
    ...DATABASE_TLS_VALIDITY,
    signingAlgorithm: ED25519,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem") + "\n", key: keys.privatePem };
}
