/**
 * The stack's PostgreSQL CA and the database's server certificates, where probatio holds both ends of the
 * application's connection: across a public network (the classic VPS phases) the application verifies the primary,
 * or the pgBouncer beside it (libpq's sslmode=verify-full); on the private network of phases 2-3 it verifies the
 * pgBouncer machine, pgBouncer verifies the leader and the standbys the leader they replicate from (verify-ca). This
 * CA signs nothing else.
 *
 * How the CA is made, and where its key lives: both keys are ECDSA P-256, derived from the stack's database password
 * (its `postgres-tls` derivation), which the stack's configuration keeps encrypted. The CA key is never written
 * anywhere: it exists in the memory of the program that signs, on the operator's machine, for the time of a run. The
 * server's keys are written on the database and pgBouncer machines only (0600, PostgreSQL's and pgBouncer's), and in the stack's state
 * as part of that machine's configuration, a secret. Signatures are RFC 6979's deterministic ECDSA and the validity
 * dates fixed, so every run renders the same certificates (no delivery for nothing); changing the database password
 * rotates the CA and every certificate it signed, delivered in place like any other change. Not Ed25519: libpq's SCRAM
 * channel binding needs the certificate's signature hash, which Ed25519 has none of (pg_dump and a subscription then
 * fail with "could not find digest for NID UNDEF").
 */
import { createHash, createPrivateKey, webcrypto } from "crypto";
import { p256 } from "@noble/curves/p256";
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIpv4Address } from "../cidr";

/** Where the application's machines keep the CA certificate (named in DATABASE_URL's sslrootcert). */
export const DATABASE_CA_FILE = "/etc/probatio/postgres-ca.crt";
/** Validity of the CA and its certificates: fixed (deterministic rendering), ten years from the first release. */
export const DATABASE_TLS_VALIDITY = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2036-01-01T00:00:00Z") };

/** ECDSA over P-256 with SHA-256: what every TLS client verifies, libpq's channel binding included. */
const CURVE = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNATURE = { name: "ECDSA", hash: "SHA-256" } as const;
const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** The private scalar of each key this module derived: what its deterministic signatures are made with. */
const scalars = new WeakMap<CryptoKey, Uint8Array>();

/**
 * WebCrypto for @peculiar/x509, but ECDSA signatures by the keys derived here follow RFC 6979 (deterministic:
 * the same certificate on every run); WebCrypto's own are randomized.
 */
const deterministicCrypto = {
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
  subtle: new Proxy(subtle, {
    get(target, prop) {
      if (prop === "sign") {
        return async (algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource) => {
          const scalar = scalars.get(key);
          if (!scalar) return target.sign(algorithm, key, data);
          const digest = createHash("sha256")
            .update(Buffer.from(data as ArrayBuffer))
            .digest();
          const raw = p256.sign(digest, scalar).toCompactRawBytes();
          return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  }),
};
x509.cryptoProvider.set(deterministicCrypto as unknown as Crypto);

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

async function keyPair(seed: Buffer): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; privatePem: string }> {
  // A valid scalar (below the curve's order): the seed, hashed again in the (2^-32) case it is not.
  let scalar: Uint8Array = seed;
  while (!p256.utils.isValidPrivateKey(scalar)) scalar = createHash("sha256").update(scalar).digest();
  const point = p256.getPublicKey(scalar, false);
  const publicJwk = { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) };
  const privateJwk = { ...publicJwk, d: b64url(scalar) };
  const privateKey = await subtle.importKey("jwk", privateJwk, CURVE, true, ["sign"]);
  scalars.set(privateKey, scalar);
  return {
    privateKey,
    publicKey: await subtle.importKey("jwk", publicJwk, CURVE, true, ["verify"]),
    privatePem: createPrivateKey({ key: privateJwk, format: "jwk" }).export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

const seedOf = (secret: string, purpose: string) => createHash("sha256").update(`probatio-postgres-tls|${purpose}|${secret}`).digest();
/** A positive serial number, from what the certificate is for (stable across runs). */
const serialOf = (purpose: string) => "01" + createHash("sha256").update(purpose).digest("hex").slice(0, 30);

/** The CA of each (secret, stack) this process signed with: made once, not again for every certificate it signs. */
const authorities = new Map<string, ReturnType<typeof makeCa>>();

function ca(secret: string, stack: string): ReturnType<typeof makeCa> {
  const key = `${stack}\0${secret}`;
  let made = authorities.get(key);
  if (!made) authorities.set(key, (made = makeCa(secret, stack)));
  return made;
}

async function makeCa(secret: string, stack: string) {
  const keys = await keyPair(seedOf(secret, "ca"));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialOf(`ca|${stack}`),
    name: `CN=probatio ${stack} PostgreSQL CA`,
    ...DATABASE_TLS_VALIDITY,
    signingAlgorithm: SIGNATURE,
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
    signingAlgorithm: SIGNATURE,
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

/** A server's certificate and key with the stack's CA certificate (what a machine that serves and verifies holds). */
export async function databaseServerTls(
  secret: string,
  stack: string,
  name: string,
  addresses: readonly string[],
): Promise<{ readonly cert: string; readonly key: string; readonly ca: string }> {
  return { ...(await databaseServerCert(secret, stack, name, addresses)), ca: await databaseCaCert(secret, stack) };
}
