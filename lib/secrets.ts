import { createHmac } from "crypto";

/**
 * A secret derived from the stack's `dbPassword` for one purpose (the superuser's, the replication role's): the same
 * on every machine of the stack and in every phase, never stored on its own. Plain values: the program wraps it as a
 * Pulumi secret, the CLI fills a database URL with it.
 */
export function derivedSecret(base: string, purpose: string): string {
  return createHmac("sha256", base).update(`probatio:${purpose}`).digest("base64url").slice(0, 32);
}

/** What the superuser's password is derived for. */
export const SUPERUSER_PURPOSE = "postgres-superuser";

/** What the stack's database CA and its server certificates derive from (components/config/databaseTls.ts). */
export const DATABASE_TLS_PURPOSE = "postgres-tls";
