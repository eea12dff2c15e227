import * as pulumi from "@pulumi/pulumi";
import { byType, machineFiles, mock } from "./helpers2";
import { PostgresCluster, validatePostgresClusterArgs } from "../../components/postgresCluster";
import { RedisSentinel, validateRedisSentinelArgs } from "../../components/redisSentinel";
import { validateWormBucketArgs, WormBucket } from "../../components/wormBucket";
import { HsmEnclave, validateHsmEnclaveArgs } from "../../components/hsmEnclave";

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

describe("RedisSentinel", () => {
  test("three nodes + Sentinel: quorum 2, password, private bind, replicas follow node 1", async () => {
    const run = await mock(
      () =>
        new RedisSentinel("redis", {
          stack: "prod",
          phase: 3,
          nodes: 3,
          sentinel: true,
          password: pulumi.secret("r3dis"),
          maxmemoryPolicy: "allkeys-lru",
          machines: { offer: "d2-2", networkId: "net", fixedIps: ["10.1.0.20", "10.1.0.21", "10.1.0.22"] },
        }),
    );
    const n2 = machineFiles(run, "redis-nodes", 1);
    expect(n2["/etc/redis/redis.conf"]).toContain("bind 127.0.0.1 10.1.0.21");
    expect(n2["/etc/redis/redis.conf"]).toContain('requirepass "r3dis"');
    expect(n2["/etc/redis/redis.conf"]).toContain("replicaof 10.1.0.20 6379");
    expect(n2["/etc/redis/redis.conf"]).toContain("maxmemory-policy allkeys-lru");
    expect(n2["/etc/redis/sentinel.conf"]).toContain("sentinel monitor prod-redis 10.1.0.20 6379 2");
    expect(machineFiles(run, "redis-nodes", 0)["/etc/redis/redis.conf"]).not.toContain("replicaof");
  });

  test.each([
    [
      { nodes: 4, sentinel: true, machines: { offer: "x", fixedIps: ["a", "b", "c", "d"] } },
      "an even Sentinel set (4) can split in two halves",
    ],
    [{ nodes: 1, sentinel: true }, "Sentinel needs at least 3 nodes"],
    [{ nodes: 3, sentinel: true, quorum: 1 }, "argument 'quorum' must be a majority of the 3 sentinels (2-3), got 1"],
    [{ maxmemoryPolicy: "lru" }, "argument 'maxmemoryPolicy' must be one of"],
    [{ nodes: 3, machines: { offer: "x" } }, "argument 'machines.fixedIps' must give one private address per node (3)"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validateRedisSentinelArgs({
        stack: "s",
        phase: 3,
        password: "p",
        machines: { offer: "d2-2", fixedIps: ["a", "b", "c"] },
        ...(bad as object),
      } as never),
    ).toThrow(message);
  });
});

describe("WormBucket", () => {
  test("ovh (default): Object Lock in compliance mode for 10 years, versioned, encrypted, protected and retained on delete", async () => {
    const run = await mock(() => new WormBucket("worm", { bucketName: "prod-legal-archive", cloudProject: "proj" }));
    const b = byType(run, "ovh:CloudProject/storage:Storage")[0];
    expect(b.inputs).toMatchObject({
      name: "prod-legal-archive",
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
      objectLock: { status: "enabled", rule: { mode: "compliance", period: "P10Y" } },
    });
    expect(b.protect).toBe(true);
    expect(b.retainOnDelete).toBe(true);
  });

  test("aws: object lock at creation, COMPLIANCE 10 years, versioning, KMS encryption, public access blocked, lifecycle", async () => {
    const run = await mock(() => new WormBucket("worm", { bucketName: "prod-legal-archive", backend: "aws" }));
    expect(byType(run, "aws:s3/bucket:Bucket")[0].inputs).toMatchObject({
      bucket: "prod-legal-archive",
      objectLockEnabled: true,
      region: "eu-west-3",
    });
    expect(byType(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")[0].inputs).toMatchObject({
      rule: { defaultRetention: { mode: "COMPLIANCE", years: 10 } },
    });
    expect(byType(run, "aws:s3/bucketVersioning:BucketVersioning")[0].inputs).toMatchObject({
      versioningConfiguration: { status: "Enabled" },
    });
    expect(byType(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0].inputs).toMatchObject({
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    });
    expect(byType(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(byType(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).toHaveLength(1);
    expect(run.resources.filter((r) => r.custom).every((r) => r.protect && r.retainOnDelete)).toBe(true);
  });

  test.each([
    [{ mode: "GOVERNANCE" }, "argument 'mode' GOVERNANCE lets privileged users delete locked archives"],
    [
      { retentionYears: 5, previousRetentionYears: 10 },
      "argument 'retentionYears' cannot shorten an existing retention (10 years -> 5 years)",
    ],
    [{ retentionYears: 0 }, "argument 'retentionYears' must be a whole number of years between 1 and 100"],
    [{ cloudProject: undefined }, "argument 'cloudProject' is required for the ovh backend"],
  ])("validation refuses %j", (bad, message) => {
    expect(() => validateWormBucketArgs({ bucketName: "b-archive", cloudProject: "p", ...(bad as object) })).toThrow(message);
  });

  test("governance is accepted only when explicitly allowed", () => {
    expect(() =>
      validateWormBucketArgs({ bucketName: "b-archive", cloudProject: "p", mode: "GOVERNANCE", allowGovernance: true }),
    ).not.toThrow();
  });
});

describe("HsmEnclave", () => {
  test("OVHcloud KMS, protected AES-256 and EC P-256 service keys, an mTLS credential for the backend", async () => {
    const run = await mock(
      () =>
        new HsmEnclave("hsm", {
          stack: "prod",
          identityUrns: ["urn:v1:eu:identity:account:xx-ovh"],
          hsmSubnet: "10.0.30.0/24",
          backendSubnet: "10.0.10.0/24",
        }),
    );
    const kms = byType(run, "ovh:Okms/okms:Okms")[0];
    expect(kms.protect).toBe(true);
    expect(kms.inputs).toMatchObject({ ovhSubsidiary: "FR", region: "eu-west-rbx" });
    const keys = byType(run, "ovh:Okms/serviceKey:ServiceKey");
    expect(keys.map((k) => [k.inputs.name, k.inputs.type, k.protect])).toEqual([
      ["prod-master-key", "oct", true],
      ["prod-signing-key", "EC", true],
    ]);
    expect(keys[0].inputs).toMatchObject({ size: 256, operations: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] });
    expect(byType(run, "ovh:Okms/credential:Credential")[0].inputs).toMatchObject({
      identityUrns: ["urn:v1:eu:identity:account:xx-ovh"],
      validity: 365,
    });
    expect(run.componentOutputs.hsm).toMatchObject({ port: 9000, allowedFrom: "10.0.10.0/24", subnet: "10.0.30.0/24" });
  });

  test("validation", () => {
    expect(() => validateHsmEnclaveArgs({ stack: "s", identityUrns: [], hsmSubnet: "a", backendSubnet: "b" })).toThrow(
      "argument 'identityUrns' must name the identity",
    );
    expect(() =>
      validateHsmEnclaveArgs({ stack: "s", identityUrns: ["u"], hsmSubnet: "a", backendSubnet: "b", credentialValidityDays: 400 }),
    ).toThrow("argument 'credentialValidityDays' must be 1-365");
  });
});
