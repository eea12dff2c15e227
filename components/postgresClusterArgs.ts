/** PostgresCluster's arguments, one interface per variant, and their validation. */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_POSTGRES } from "../lib/defaults";
import { MachineOptions } from "./machines";
import { ArgumentError, requirePositiveInteger } from "./validation";

export type StandbyMode = "sync" | "async";

export interface PostgresPasswords {
  readonly superuser: pulumi.Input<string>;
  readonly app: pulumi.Input<string>;
  readonly replication: pulumi.Input<string>;
}

/** Arguments every variant takes. */
interface PostgresCommonArgs {
  /** Stack name (machine and bucket names). */
  readonly stack: string;
  /** Phase (machine labels). */
  readonly phase: number;
  /**
   * PostgreSQL major version.
   * @default 15 (Debian 12's); 16 for the managed variant
   */
  readonly version?: number;
  /**
   * max_connections.
   * @default 100
   */
  readonly maxConnections?: number;
  /**
   * shared_buffers.
   * @default "256MB"
   */
  readonly sharedBuffers?: string;
  /**
   * pgBouncer in front of the primary (self-managed, colocated) or a connection pool (managed).
   * @default none
   */
  readonly pgbouncer?: { readonly poolSize: number; readonly port: number };
  /** Base backup schedule (5-field cron) and retention in days. */
  readonly backup: { readonly cron: string; readonly retentionDays: number };
  /** Subnets (or, for classic VPS without a private network, their public addresses, /32) allowed to connect; at least one, never 0.0.0.0/0. */
  readonly allowedCidrs: readonly pulumi.Input<string>[];
  /**
   * While a migration moves this database to the next phase: the addresses the target database connects from (its NAT
   * gateway's, or its machine's), let in for the migration's role only (self-managed, colocated).
   * @default none
   */
  readonly migrationPeers?: pulumi.Input<readonly string[]>;
  /** Passwords of the superuser, the application and replication (Pulumi secrets). */
  readonly passwords: PostgresPasswords;
  /**
   * The secret the servers' certificates and the stack's database CA derive from (components/config/databaseTls.ts),
   * for a self-managed cluster: a lone primary (and a pgBouncer beside it) presents its certificate to the
   * application, which verifies it; in a cluster with standbys every node has its own and takes TLS only, replication
   * included.
   * @default none (Debian's self-signed certificate, plain connections allowed from private subnets)
   */
  readonly tlsSecret?: pulumi.Input<string>;
  /**
   * Application database.
   * @default "app"
   */
  readonly database?: string;
  /**
   * Application user.
   * @default "app"
   */
  readonly appUser?: string;
  /** OVH Public Cloud project id (backups bucket, managed database). */
  readonly cloudProject: pulumi.Input<string>;
  /**
   * OVH region.
   * @default "GRA11"
   */
  readonly region?: string;
  /**
   * Name of the backups bucket (self-managed, colocated).
   * @default "<stack>-pg-backups"
   */
  readonly bucketName?: string;
  /**
   * Prometheus's node exporter on the machines (the phase is monitored).
   * @default false
   */
  readonly nodeExporter?: boolean;
  /**
   * Protect data-bearing resources (machines, bucket, database) from deletion.
   * @default true
   */
  readonly protect?: boolean;
}

/** A primary and its standbys on machines of their own, WAL and base backups to Object Storage (phases 1-3). */
export interface SelfManagedPostgresArgs extends PostgresCommonArgs {
  readonly variant: "self-managed";
  /**
   * Standbys, each "sync" or "async".
   * @default none
   */
  readonly standbys?: readonly StandbyMode[];
  /**
   * Machine role of the primary (standbys are `<role>-standby`).
   * @default "database"
   */
  readonly role?: string;
  /** The primary's and standbys' machines; `fixedIps` in order primary, standbys. */
  readonly machines: MachineOptions;
  /**
   * With standbys the cluster fails over by itself (Patroni, with etcd as its coordination store): the store's third
   * member, on a machine the caller creates (the pgBouncer machine), beside the first two database machines. Every
   * node then needs a fixed private address (`machines.fixedIps`).
   * @default none (required with standbys)
   */
  readonly witness?: { readonly name: string; readonly address: string };
}

/** PostgreSQL on a machine the caller creates (phase 0's all-in-one): the cluster renders `colocatedBundle` for it. */
export interface ColocatedPostgresArgs extends PostgresCommonArgs {
  readonly variant: "colocated";
  /**
   * Machine role of the caller's machine.
   * @default "database"
   */
  readonly role?: string;
}

/** OVH Cloud Databases' plans for PostgreSQL and their node counts (a plan fixes the count: the API refuses another). */
export const MANAGED_PLAN_NODES: Readonly<Record<string, number>> = { essential: 1, business: 2, enterprise: 3 };

/** OVH Cloud Databases for PostgreSQL (phase 4). */
export interface ManagedPostgresArgs extends PostgresCommonArgs {
  readonly variant: "managed";
  /** Plan, flavour, node count (primary + replicas, at most 3) and private network. */
  readonly managed: {
    readonly plan: string;
    readonly flavor: string;
    readonly nodes: number;
    readonly networkId?: pulumi.Input<string>;
    readonly subnetId?: pulumi.Input<string>;
    readonly backupRegions?: readonly string[];
  };
}

export type PostgresClusterArgs = SelfManagedPostgresArgs | ColocatedPostgresArgs | ManagedPostgresArgs;

export function validatePostgresClusterArgs(args: PostgresClusterArgs): void {
  const max = args.maxConnections ?? DEFAULT_POSTGRES.maxConnections;
  requirePositiveInteger("PostgresCluster", "maxConnections", max, 10000);
  if (args.allowedCidrs.length === 0) throw new ArgumentError("PostgresCluster", "allowedCidrs", "must list at least one private subnet");
  if (args.allowedCidrs.some((c) => typeof c === "string" && (c === "0.0.0.0/0" || c === "::/0" || c.endsWith("/0")))) {
    throw new ArgumentError("PostgresCluster", "allowedCidrs", "must not open the database to the internet (0.0.0.0/0)");
  }
  if (!/^(\*|[0-9*/,-]+)( (\*|[0-9*/,-]+)){4}$/.test(args.backup.cron)) {
    throw new ArgumentError("PostgresCluster", "backup.cron", `must be a 5-field cron schedule (got '${args.backup.cron}')`);
  }
  requirePositiveInteger("PostgresCluster", "backup.retentionDays", args.backup.retentionDays, 3650);
  if (args.pgbouncer) {
    requirePositiveInteger("PostgresCluster", "pgbouncer.poolSize", args.pgbouncer.poolSize);
    if (args.pgbouncer.poolSize >= max) {
      throw new ArgumentError(
        "PostgresCluster",
        "pgbouncer.poolSize",
        `must be below maxConnections (${max}), got ${args.pgbouncer.poolSize}`,
      );
    }
  }
  switch (args.variant) {
    case "self-managed": {
      if (!args.machines) throw new ArgumentError("PostgresCluster", "machines", "is required for a self-managed cluster");
      const nodes = 1 + (args.standbys?.length ?? 0);
      if (nodes > 1 && !args.witness) {
        throw new ArgumentError("PostgresCluster", "witness", "is required with standbys (the coordination store's third member)");
      }
      if (nodes > 1 && (args.machines.fixedIps?.length ?? 0) < nodes) {
        throw new ArgumentError("PostgresCluster", "machines.fixedIps", `must give each of the ${nodes} nodes its private address`);
      }
      return;
    }
    case "colocated":
      if ((args as { standbys?: unknown[] }).standbys?.length) {
        throw new ArgumentError("PostgresCluster", "standbys", "needs dedicated machines (colocated is single-node)");
      }
      return;
    case "managed":
      if (!args.managed) throw new ArgumentError("PostgresCluster", "managed", "is required for the managed variant");
      requirePositiveInteger("PostgresCluster", "managed.nodes", args.managed.nodes, 3);
      if (MANAGED_PLAN_NODES[args.managed.plan] !== args.managed.nodes) {
        const plan = Object.entries(MANAGED_PLAN_NODES).find(([, n]) => n === args.managed.nodes)?.[0];
        throw new ArgumentError(
          "PostgresCluster",
          "managed.plan",
          `'${args.managed.plan}' does not have ${args.managed.nodes} node(s)` +
            (plan ? `: ${args.managed.nodes} node(s) is the '${plan}' plan` : ""),
        );
      }
      return;
    default: {
      const unreachable: never = args;
      throw new ArgumentError(
        "PostgresCluster",
        "variant",
        `is unknown (${JSON.stringify((unreachable as { variant: unknown }).variant)})`,
      );
    }
  }
}
