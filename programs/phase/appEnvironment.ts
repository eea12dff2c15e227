/**
 * What the application on a phase's machines is told about the phase: where its database and its cache are, and the
 * credentials probatio made for it. Computed from the address plan (fixed private addresses in phases 2–3, host names
 * on classic VPS), not from the components' outputs, so that the application's machines need not wait for them.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DATABASE, DEFAULT_PGBOUNCER, ports } from "../../lib/defaults";
import { deriveSecret } from "../settings";
import { PhaseContext } from "./context";
import { databaseTlsSecret, PostgresPlacement } from "./postgres";
import { DATABASE_CA_FILE } from "../../components/config/databaseTls";

/** Environment variables of the application's processes (PM2's `env`). */
export type AppEnvironment = Readonly<Record<string, string>>;

/** Where the application's database and cache are, as the components declare them (known once they are declared). */
export interface AppEndpoints {
  /** The cluster's endpoint: the primary's address (a VPS's service name, a private address), or loopback when colocated. */
  readonly database: pulumi.Input<string>;
  /** The first Redis node's address. */
  readonly redis: pulumi.Input<string>;
}

export function appEnvironment(ctx: PhaseContext, placement: PostgresPlacement, endpoints: AppEndpoints): pulumi.Output<AppEnvironment> {
  const { settings, topology } = ctx;
  const parts: Record<string, pulumi.Input<string>> = {};
  if (placement.kind === "colocated") {
    // Loopback serves the machine PostgreSQL lives on, and no other: every application must live there too.
    const elsewhere = topology.fleets.filter(
      (f) => f.role !== placement.fleet.role && f.services.some((x) => x === "backend" || x === "api"),
    );
    if (elsewhere.length > 0) {
      ctx.fail(`PostgreSQL lives on '${placement.fleet.role}' (colocated) but '${elsewhere[0].role}' runs an application elsewhere`);
    }
  }
  if (placement.kind === "dedicated" || placement.kind === "colocated") {
    // Through pgBouncer where the phase has one (its own machine, or beside the primary), else the primary itself.
    const pooler = ctx.fleet("pgbouncer");
    const colocatedPooler = !pooler && !!placement.spec.pgbouncer;
    const host = pooler ? (ctx.fixedIps(pooler.role, 1)?.[0] ?? ctx.machineNames(pooler.role, 1)[0]) : endpoints.database;
    const port = pooler || colocatedPooler ? (placement.spec.pgbouncer?.port ?? DEFAULT_PGBOUNCER.port) : ports.postgres;
    // TLS only, the server verified against the stack's database CA (its certificate names the address the application
    // connects to): across the public network (classic VPS: the primary's 5432, or pgBouncer's beside it) and on the
    // private network (phases 2-3: pgBouncer's machine).
    const tls = databaseTlsSecret(ctx, placement) ? `?sslmode=verify-full&sslrootcert=${DATABASE_CA_FILE}` : "";
    parts.DATABASE_URL = pulumi.interpolate`postgres://${DEFAULT_DATABASE.user}:${pulumi.output(settings.dbPassword).apply(encodeURIComponent)}@${host}:${port}/${DEFAULT_DATABASE.name}${tls}`;
  }
  const redis = topology.redis;
  if (redis && !redis.inCluster) {
    const fleet = ctx.requireFleet(redis.role, "redis.role");
    parts.REDIS_PASSWORD = settings.redisPassword ?? deriveSecret(settings.dbPassword, "redis");
    if (redis.sentinel) {
      const hosts = ctx.fixedIps(fleet.role, fleet.count) ?? ctx.machineNames(fleet.role, fleet.count);
      // The application asks Sentinel for the current master (the master changes on a failover).
      parts.REDIS_SENTINELS = hosts.map((h) => `${h}:${ports.sentinel}`).join(",");
      parts.REDIS_MASTER_NAME = `${settings.stack}-redis`;
    } else {
      parts.REDIS_URL = pulumi.interpolate`redis://${endpoints.redis}:${ports.redis}`;
    }
  }
  return pulumi.all(parts).apply((env) => env as AppEnvironment);
}
