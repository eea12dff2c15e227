/**
 * The data step of ProbatioVault's 1-to-2 migration between booted primaries, with nothing but what probatio renders:
 * the stack in its transitional stage (both phases), phase 1's database VPS on its public side (TEST-NET-1) and
 * phase 2's primary on 10.1.0.0/24 behind the NAT gateway's public address, each booted from its exact user data.
 * The operator reaches each primary's superuser through an SSH tunnel to its loopback (the rendered pg_hba's only
 * superuser TCP line), and `probatio data` does the rest: the target subscribes to the source as the migration's own
 * role, which the source's pg_hba lets in from the NAT gateway's address only.
 */
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { BootNetwork, BootMachineSpec } from "./harness";
import { migrationBootPlan } from "./phases";
import { buildStandins } from "./standins";
import { operatorKey } from "./delivered";
import { configure, makeSandbox, runCli, RunResult, Sandbox } from "../engine/harness";
import { DEFAULT_SSH_USER } from "../../components/config/cloudinit";

const log = (line: string) => process.stderr.write(`[boot probatio 1-to-2] ${line}\n`);
const ROWS = 20_000;
/** The offline render's dbPassword (the operator's stack has the same, so it derives the same superuser password). */
const PLAN_DB_PASSWORD = "plan-placeholder-password";

describe("probatio 1-to-2: the data step between booted primaries, with the roles and pg_hba probatio renders", () => {
  let net: BootNetwork;
  let source: BootMachineSpec;
  let target: BootMachineSpec;
  let natEgress: string;
  /** Where the operator (and every probe) stands on phase 1's network: the namespace's address there. */
  let operatorAddress: string;
  let sandbox: Sandbox;
  const key = operatorKey();
  const tunnels: ChildProcess[] = [];
  const knownHosts = mkdtempSync("/var/tmp/probatio-boot-known-");
  const t0 = Date.now();

  /** `ssh -L` from the operator's place on the network to a primary's loopback:5432, on local port `port`. */
  async function tunnel(host: string, port: number): Promise<void> {
    const p = spawn(
      "ip",
      [
        "netns",
        "exec",
        net.netns,
        "ssh",
        "-N",
        "-i",
        key.path,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        `UserKnownHostsFile=${knownHosts}/known_hosts`,
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        `127.0.0.1:${port}:127.0.0.1:5432`,
        `${DEFAULT_SSH_USER}@${host}`,
      ],
      { stdio: "ignore" },
    );
    tunnels.push(p);
    for (let i = 0; i < 60; i++) {
      if ((await net.probe(`pg_isready -q -h 127.0.0.1 -p ${port}`)).code === 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`the SSH tunnel to ${host} did not open`);
  }

  const data = (args: string[]): Promise<RunResult> =>
    runCli(
      sandbox,
      ["data", ...args, "--stack", "prod", "--json"],
      {
        PROBATIO_SOURCE_DB: "postgres://postgres@127.0.0.1:15432/app",
        PROBATIO_TARGET_DB: "postgres://postgres@127.0.0.1:25432/app",
        PROBATIO_SOURCE_DB_FROM_TARGET: `postgres://${source.address}:5432/app?sslmode=require`,
      },
      net.netns,
    );
  const sql = (machine: string, q: string) => net.exec(machine, `sudo -u postgres psql -qd app -v ON_ERROR_STOP=1 -tAc "${q}"`);
  const onSource = (q: string) => sql(source.name, q).then((r) => r.stdout.trim());
  // Both machines are named prod-database-1 (the target's name repeats the source's): the harness knows them apart.
  const onTarget = (q: string) => sql(target.name, q).then((r) => r.stdout.trim());

  beforeAll(async () => {
    const plan = await migrationBootPlan("probatio", 1, 2, { sshPublicKey: key.publicKey });
    natEgress = plan.natEgress;
    operatorAddress = plan.source.gateway;
    source = plan.source.machines.find((m) => m.role === "database")!;
    // Phase 2's PostgreSQL runs under Patroni: its primary bootstraps once etcd's three members are up, so the target's
    // data tier boots whole (the two database machines and the pgBouncer machine, etcd's three members). Their names repeat the
    // source's: the harness calls them next-*.
    const tier = plan.target.machines
      // etcd's cluster version (and its v3 API, which Patroni needs) waits for every member of a new cluster.
      .filter((m) => /^prod-(database|pgbouncer)-/.test(m.name))
      .map((m) => ({ ...m, name: m.name.replace(/^prod-/, "next-") }));
    target = tier.find((m) => m.name === "next-database-1")!;
    const members = tier.filter((m) => m !== target);
    const machines = [source, target, ...members];
    const standins = buildStandins();
    net = await BootNetwork.create("probatio1to2", plan.source.gateway, plan.source.prefixLength, machines, standins);
    await net.addSubnet(plan.target.gateway, plan.target.prefixLength, natEgress);
    // The buckets `up` created for each phase's backups, as their pgBackRest configurations name them.
    for (const m of [source, target]) await net.createBucket(m.userData.match(/repo1-s3-bucket=(\S+)/)![1]);
    await net.boot(machines);
    for (const m of machines) {
      const r = await net.cloudInit(m.name);
      log(`${m.name} (${m.address}): cloud-init ${r.status.split("\n")[0]} ${((Date.now() - t0) / 1000).toFixed(0)} s after the start`);
      if (r.errors.length > 0 || !/status: done/.test(r.status)) throw new Error(`${m.name}: ${r.status}\n${r.errors.join("\n")}`);
    }
    // The operator's probatio project: the stack's dbPassword, from which the superuser's password derives.
    sandbox = makeSandbox({ PROBATIO_SSH_KEY: key.path });
    await configure(sandbox, "prod", PLAN_DB_PASSWORD);
    await tunnel(source.address, 15432);
    await tunnel(target.address, 25432);
  }, 20 * 60_000);

  afterAll(async () => {
    for (const p of tunnels) p.kill("SIGTERM");
    await net?.destroy();
    rmSync(key.dir, { recursive: true, force: true });
    rmSync(knownHosts, { recursive: true, force: true });
    if (sandbox) rmSync(sandbox.root, { recursive: true, force: true });
  }, 5 * 60_000);

  test("the source's host firewall and pg_hba let the migration's role in from the NAT gateway's address only: from the operator's address the connection is dropped", async () => {
    const hba = (await net.exec(source.name, "grep probatio_migration /etc/postgresql/15/main/pg_hba.conf")).stdout.trim().split(/\s+/);
    expect(hba).toEqual(["hostssl", "app", "probatio_migration", `${natEgress}/32`, "scram-sha-256"]);
    const fence = (await net.exec(source.name, "nft list chain inet probatio input")).stdout;
    expect(
      fence
        .split("\n")
        .filter((l) => l.includes("dport 5432"))
        .map((l) => l.trim().replace(/ comment ".*"$/, "")),
    ).toEqual([`ip saddr ${natEgress} tcp dport 5432 accept`]);
    const psql = (host: string) =>
      `PGPASSWORD=x PGCONNECT_TIMEOUT=5 psql "host=${host} dbname=app user=probatio_migration sslmode=require" -c 'select 1'`;
    // The operator stands at the namespace's address on phase 1's network: the host firewall drops it (no answer).
    expect((await net.probe(psql(source.address))).stderr).toMatch(/timeout expired/);
    expect(operatorAddress).not.toBe(natEgress);
    // Behind the fence, pg_hba refuses any other address too: the machine's own public address, from itself.
    expect((await net.exec(source.name, psql(source.address))).stderr).toMatch(
      new RegExp(`pg_hba.conf rejects connection for host "${source.address}", user "probatio_migration"`),
    );
  });

  test(
    `replicate, verify and cut over ${ROWS} rows written by the application's role on the source: the target has them all, the migration's role is gone`,
    async () => {
      // The application's data on the source: its role owns the table (the target's copy keeps the owner).
      await onSource(
        `SET ROLE app; CREATE TABLE evidence (id bigserial PRIMARY KEY, sha256 text NOT NULL, sealed_at timestamptz NOT NULL DEFAULT now()); INSERT INTO evidence (sha256) SELECT md5(g::text) || md5((g * 7)::text) FROM generate_series(1, ${ROWS}) g`,
      );
      const replicate = await data(["replicate"]);
      expect({ code: replicate.code, stderr: replicate.stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(replicate.stdout)).toMatchObject({ tables: 1, tablesReady: 1 });
      log(`replicate: ${replicate.stdout.trim()}`);
      // The subscription runs on the target, logged in to the source as the migration's role, from the NAT address.
      expect(await onSource("SELECT usename || ' ' || host(client_addr) FROM pg_stat_replication")).toBe(`probatio_migration ${natEgress}`);
      expect(await onSource("SELECT ssl FROM pg_stat_ssl JOIN pg_stat_replication USING (pid)")).toBe("t");
      // A row written after the copy streams across.
      await onSource("SET ROLE app; INSERT INTO evidence (sha256) VALUES ('after-the-copy')");
      const verify = await data(["verify"]);
      expect({ code: verify.code, stderr: verify.stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(verify.stdout)).toMatchObject({
        equal: true,
        tables: [{ table: "evidence", sourceRows: ROWS + 1, targetRows: ROWS + 1 }],
      });
      const cutover = await data(["cutover"]);
      expect({ code: cutover.code, stderr: cutover.stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
      log(`cutover: ${cutover.stdout.trim().slice(0, 300)}`);
      // The target takes the application's writes, and its sequence continues after the source's last id.
      expect(await onTarget("SELECT count(*) || ' ' || max(id) FROM evidence")).toBe(`${ROWS + 1} ${ROWS + 1}`);
      expect(await onTarget("SET ROLE app; INSERT INTO evidence (sha256) VALUES ('first-on-the-target') RETURNING id")).toBe(
        String(ROWS + 2),
      );
      expect(await onTarget("SELECT tableowner FROM pg_tables WHERE tablename = 'evidence'")).toBe("app");
      // Nothing of the migration is left on the source: no role, no publication, no slot; the source is read-only.
      expect(
        await onSource(
          "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'probatio_migration') || ' ' || (SELECT count(*) FROM pg_publication) || ' ' || (SELECT count(*) FROM pg_replication_slots)",
        ),
      ).toBe("0 0 0");
      expect((await sql(source.name, "SET ROLE app; INSERT INTO evidence (sha256) VALUES ('too-late')")).stderr).toMatch(
        /read-only transaction/,
      );
    },
    10 * 60_000,
  );
});
