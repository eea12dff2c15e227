import * as pulumi from "@pulumi/pulumi";
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
  test("self-managed: primary + sync standby + async standby with slots, synchronous_standby_names and WAL archiving", async () => {
    const run = await mock(
      () =>
        new PostgresCluster("postgres", {
          ...pgBase,
          variant: "self-managed",
          standbys: ["sync", "async"],
          maxConnections: 200,
          pgbouncer: { poolSize: 50, port: 6432 },
          machines: { offer: "d2-8", networkId: "net", fixedIps: ["10.1.0.30", "10.1.0.31", "10.1.0.32"] },
        }),
    );
    const primary = machineFiles(run, "postgres-primary");
    const conf = primary["/etc/postgresql/15/main/conf.d/probatio.conf"];
    expect(conf).toContain("max_connections = 200");
    expect(conf).toContain(`synchronous_standby_names = 'FIRST 1 ("standby1")'`);
    expect(primary["/etc/probatio/pg-bootstrap.sql"]).toContain("pg_create_physical_replication_slot('standby1')");
    expect(primary["/etc/probatio/pg-bootstrap.sql"]).toContain("pg_create_physical_replication_slot('standby2')");
    expect(primary["/etc/pgbouncer/pgbouncer.ini"]).toContain("default_pool_size = 50");
    expect(primary["/etc/pgbouncer/pgbouncer.ini"]).toContain("listen_port = 6432");
    expect(primary["/etc/cron.d/probatio-pg-backup"]).toContain("0 */6 * * * postgres pgbackrest");
    const standby2 = machineFiles(run, "postgres-standby", 1)["/etc/postgresql/15/main/conf.d/probatio.conf"];
    expect(standby2).toContain("primary_conninfo = 'host=10.1.0.30 port=5432 user=replicator application_name=standby2'");
    expect(standby2).toContain("primary_slot_name = 'standby2'");
    const instances = byType(run, "openstack:compute/instance:Instance");
    expect(instances.map((i) => i.inputs.name)).toEqual(["prod-database-1", "prod-database-standby-1", "prod-database-standby-2"]);
    expect(instances.every((i) => i.protect)).toBe(true);
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
          managed: { plan: "business", flavor: "db1-15", nodes: 3, networkId: "net", subnetId: "db-subnet" },
        }),
    );
    const db = byType(run, "ovh:CloudProject/database:Database")[0];
    expect(db.protect).toBe(true);
    expect(db.inputs).toMatchObject({
      engine: "postgresql",
      version: "16",
      plan: "business",
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
    [{ variant: "managed" }, "argument 'managed' is required for the managed variant"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validatePostgresClusterArgs({ ...pgBase, variant: "self-managed", machines: { offer: "d2-8" }, ...(bad as object) } as never),
    ).toThrow(message);
  });
});
