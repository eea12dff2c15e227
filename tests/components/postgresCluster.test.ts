import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { byType, machineFiles, mock } from "../helpers";
import { PostgresCluster, validatePostgresClusterArgs } from "../../components/postgresCluster";

const passwords = { app: pulumi.secret("app-pw"), superuser: pulumi.secret("su-pw"), replication: pulumi.secret("repl-pw") };
const pgBase = {
  stack: "prod",
  phase: 3,
  backup: { cron: "0 */6 * * *", retentionDays: 30 },
  allowedCidrs: ["10.1.0.0/24"],
  passwords,
  cloudProject: "proj",
};

describe("PostgresCluster", () => {
  test("self-managed with standbys: Patroni on every node (synchronous mode, WAL archiving, rewind), etcd on the first two and the witness", async () => {
    const run = await mock(
      () =>
        new PostgresCluster("postgres", {
          ...pgBase,
          variant: "self-managed",
          standbys: ["sync", "async"],
          maxConnections: 200,
          witness: { name: "prod-pgbouncer-1", address: "10.1.0.40" },
          machines: { offer: "d2-8", networkId: "net", fixedIps: ["10.1.0.30", "10.1.0.31", "10.1.0.32"] },
        }),
    );
    const primary = machineFiles(run, "postgres-primary");
    const patroni = parse(primary["/etc/patroni/config.yml"]);
    expect(patroni).toMatchObject({ scope: "prod", name: "prod-database-1" });
    expect(patroni.bootstrap.dcs).toMatchObject({ synchronous_mode: true, synchronous_node_count: 1, synchronous_mode_strict: false });
    expect(patroni.bootstrap.dcs.postgresql.parameters).toMatchObject({
      max_connections: 200,
      wal_level: "logical",
      wal_log_hints: "on",
      archive_mode: "on",
      archive_command: "pgbackrest --stanza=prod archive-push %p",
    });
    expect(patroni.postgresql.authentication.replication.password).toBe("repl-pw");
    expect(patroni.postgresql.pg_hba).toContain("host    replication     replicator      10.1.0.0/24             scram-sha-256");
    expect(patroni.postgresql.pg_hba).toContain("host    postgres        rewinder        10.1.0.0/24             scram-sha-256");
    expect(patroni.etcd3.hosts).toEqual(["10.1.0.30:2379", "10.1.0.31:2379", "10.1.0.40:2379"]);
    expect(primary["/etc/patroni/bootstrap.sql"]).toContain("CREATE ROLE app WITH LOGIN PASSWORD 'app-pw';");
    expect(primary["/etc/cron.d/probatio-pg-backup"]).toContain("0 */6 * * * postgres /usr/local/sbin/probatio-pg-backup");
    expect(primary["/etc/default/etcd"]).toContain('ETCD_NAME="prod-database-1"');
    const standby2 = machineFiles(run, "postgres-standby", 1);
    expect(parse(standby2["/etc/patroni/config.yml"]).postgresql.connect_address).toBe("10.1.0.32:5432");
    expect(standby2["/etc/default/etcd"]).toBeUndefined();
    const instances = byType(run, "openstack:compute/instance:Instance");
    expect(instances.map((i) => i.inputs.name)).toEqual(["prod-database-1", "prod-database-standby-1", "prod-database-standby-2"]);
    expect(instances.every((i) => i.protect)).toBe(true);
  });

  test("a single primary (phase 1): PostgreSQL's own configuration, pgBouncer beside it, no Patroni", async () => {
    const run = await mock(
      () =>
        new PostgresCluster("postgres", {
          ...pgBase,
          variant: "self-managed",
          maxConnections: 200,
          pgbouncer: { poolSize: 50, port: 6432 },
          machines: { offer: "d2-8", networkId: "net", fixedIps: ["10.1.0.30"] },
        }),
    );
    const primary = machineFiles(run, "postgres-primary");
    expect(primary["/etc/postgresql/15/main/conf.d/probatio.conf"]).toContain("max_connections = 200");
    expect(primary["/etc/postgresql/15/main/conf.d/probatio.conf"]).not.toContain("synchronous_standby_names");
    expect(primary["/etc/pgbouncer/pgbouncer.ini"]).toContain("default_pool_size = 50");
    expect(primary["/etc/cron.d/probatio-pg-backup"]).toContain("0 */6 * * * postgres pgbackrest");
    expect(primary["/etc/patroni/config.yml"]).toBeUndefined();
  });

  test("managed: OVH PostgreSQL, 3 nodes, IP restriction to the backend subnet only, deletion protection, app user and pool", async () => {
    const run = await mock(
      () =>
        new PostgresCluster("postgres", {
          ...pgBase,
          phase: 4,
          variant: "managed",
          version: 16,
          allowedCidrs: ["10.0.10.0/24"],
          pgbouncer: { poolSize: 50, port: 6432 },
          managed: { plan: "enterprise", flavor: "db1-15", nodes: 3, networkId: "net", subnetId: "db-subnet" },
        }),
    );
    const db = byType(run, "ovh:CloudProject/database:Database")[0];
    expect(db.protect).toBe(true);
    expect(db.inputs).toMatchObject({
      engine: "postgresql",
      version: "16",
      plan: "enterprise",
      flavor: "db1-15",
      deletionProtection: true,
      ipRestrictions: [{ ip: "10.0.10.0/24", description: "backend subnet" }],
      backupRegions: ["GRA"],
    });
    expect(db.inputs.nodes).toHaveLength(3);
    expect(byType(run, "ovh:CloudProjectDatabase/postgresSqlConnectionPool:PostgresSqlConnectionPool")[0].inputs).toMatchObject({
      mode: "transaction",
      size: 50,
    });
    expect(byType(run, "ovh:CloudProjectDatabase/postgresSqlUser:PostgresSqlUser")[0].inputs).toMatchObject({ name: "app" });
  });

  test.each([
    [{ allowedCidrs: [] }, "argument 'allowedCidrs' must list at least one private subnet"],
    [{ allowedCidrs: ["0.0.0.0/0"] }, "argument 'allowedCidrs' must not open the database to the internet"],
    [{ backup: { cron: "every day", retentionDays: 30 } }, "argument 'backup.cron' must be a 5-field cron schedule"],
    [
      { pgbouncer: { poolSize: 200, port: 6432 }, maxConnections: 200 },
      "argument 'pgbouncer.poolSize' must be below maxConnections (200), got 200",
    ],
    [{ machines: undefined }, "argument 'machines' is required"],
    [{ standbys: ["async"] }, "argument 'witness' is required with standbys (the coordination store's third member)"],
    [
      { standbys: ["async"], witness: { name: "w", address: "10.1.0.40" } },
      "argument 'machines.fixedIps' must give each of the 2 nodes its private address",
    ],
    [{ variant: "managed" }, "argument 'managed' is required for the managed variant"],
    [
      { variant: "managed", managed: { plan: "business", flavor: "db1-15", nodes: 3 } },
      "argument 'managed.plan' 'business' does not have 3 node(s): 3 node(s) is the 'enterprise' plan",
    ],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validatePostgresClusterArgs({ ...pgBase, variant: "self-managed", machines: { offer: "d2-8" }, ...(bad as object) } as never),
    ).toThrow(message);
  });
});
