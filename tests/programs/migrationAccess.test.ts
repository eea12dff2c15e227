/**
 * What a migration's data step needs from the rendered databases: the operator reaches each primary's superuser
 * through an SSH tunnel to its loopback, and, while the stack holds both phases, the source primary lets the
 * migration's role in from the target database's egress address only (the NAT gateway's public address in phase 2).
 */
import { parse } from "yaml";
import { COMPOSE_FILE, COMPOSE_PG_HBA } from "../../components/config/compose";
import { PATRONI_CONFIG } from "../../components/config/patroni";
import { renderPgHba } from "../../components/config/postgres";
import { PLAN_NAT_EGRESS } from "../../offline/mockRun";
import { renderPhase } from "../../offline/render";
import { MigrationState } from "../../programs/settings";

// Each plan runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(180_000);

const HBA = "/etc/postgresql/15/main/pg_hba.conf";
/** A primary's pg_hba: its file, or (Patroni's nodes, phases 2-3) the lines Patroni writes into it. */
const hbaOf = (files: Record<string, string>): string | undefined =>
  files[HBA] ?? (files[PATRONI_CONFIG] ? (parse(files[PATRONI_CONFIG]).postgresql.pg_hba as string[]).join("\n") : undefined);
const migrationLines = (hba: string) => hba.split("\n").filter((l) => l.includes("probatio_migration"));
const transitional = (from: number, to: number): MigrationState => ({
  roadmap: "probatio",
  from,
  to,
  stage: "transitional",
  completed: [],
  startedAt: "2026-11-25T00:00:00Z",
});

/** A primary's pg_hba.conf on the private network 10.1.0.0/24, letting the migration's role in from `migrationPeers`. */
const primaryHba = (migrationPeers: string[], tlsOnly?: boolean) =>
  renderPgHba({ allowedCidrs: ["10.1.0.0/24"], replicationUser: "replicator", appUser: "app", database: "app", migrationPeers, tlsOnly });

test("a public peer gets a TLS-only line with its /32; a private one a plain line; both only for the migration's role and database", () => {
  const hba = primaryHba(["203.0.113.10", "10.2.0.0/24"]);
  expect(migrationLines(hba).map((l) => l.split(/\s+/))).toEqual([
    ["hostssl", "app", "probatio_migration", "203.0.113.10/32", "scram-sha-256"],
    ["host", "app", "probatio_migration", "10.2.0.0/24", "scram-sha-256"],
  ]);
  // Before the final rejects, or they would never match.
  expect(hba.indexOf("probatio_migration")).toBeLessThan(hba.indexOf("0.0.0.0/0"));
});

test("on a server with the stack's certificate (phases 2-3), a private peer gets a TLS-only line too; loopback (an SSH tunnel) stays plain", () => {
  const hba = primaryHba(["10.2.0.0/24", "127.0.0.1"], true);
  expect(migrationLines(hba).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
    ["hostssl", "app", "probatio_migration", "10.2.0.0/24"],
    ["host", "app", "probatio_migration", "127.0.0.1/32"],
  ]);
});

test("phase 1 to 2: the source primary lets the migration's role in from the NAT gateway's address only; the target primary lets nobody new in", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 1, stack: "prod", overrides: { migration: transitional(1, 2) } });
  const source = r.machines.find((m) => m.machine === "prod-database-1" && !m.migrationTarget)!;
  const target = r.machines.find((m) => m.machine === "prod-database-1" && m.migrationTarget)!;
  expect(target.address).toBe("10.1.0.30");
  expect(migrationLines(hbaOf(source.files)!)).toEqual([
    `hostssl app             probatio_migration ${PLAN_NAT_EGRESS}/32         scram-sha-256`,
  ]);
  expect(migrationLines(hbaOf(target.files)!)).toEqual([]);
  // The superuser over TCP: loopback only (the operator's SSH tunnel), on both primaries.
  for (const m of [source, target]) {
    expect(
      hbaOf(m.files)!
        .split("\n")
        .filter((l) => l.startsWith("host") && l.split(/\s+/)[2] === "postgres"),
    ).toEqual(["host    all             postgres        127.0.0.1/32            scram-sha-256"]);
  }
});

test("phase 0 to 1: the colocated source lets the migration's role in from the target database VPS itself, by its public IPv4 (no NAT there), over TLS", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 0, stack: "prod", overrides: { migration: transitional(0, 1) } });
  const targetDb = r.machines.find((m) => m.machine === "prod-database-1" && m.migrationTarget)!;
  const source = r.machines.find((m) => !m.migrationTarget && m.files[HBA])!;
  expect(targetDb.address).toMatch(/^192\.0\.2\.\d+$/);
  expect(migrationLines(hbaOf(source.files)!).map((l) => l.split(/\s+/))).toEqual([
    ["hostssl", "app", "probatio_migration", `${targetDb.address}/32`, "scram-sha-256"],
  ]);
});

test("outside a migration, no primary lets the migration's role in", async () => {
  for (const n of [0, 1, 2, 3]) {
    for (const m of (await renderPhase({ roadmap: "probatio", phase: n, stack: "prod" })).machines) {
      const hba = hbaOf(m.files);
      if (hba) expect(migrationLines(hba)).toEqual([]);
    }
  }
});

describe("KoproGo: the Compose PostgreSQL lets the next phase's database in only while a migration runs", () => {
  const koprogo = (from: number, to: number): MigrationState => ({ ...transitional(from, to), roadmap: "koprogo" });
  const composeOf = (files: Record<string, string>) => parse(files[COMPOSE_FILE]);

  test("2 to 3: published on the VPS, and the migration's role let in over TLS from each K3s node (the pods leave from there)", async () => {
    const r = await renderPhase({ roadmap: "koprogo", phase: 2, stack: "prod", overrides: { migration: koprogo(2, 3) } });
    const source = r.machines.find((m) => !m.migrationTarget && m.files[COMPOSE_FILE])!;
    const nodes = r.machines.filter((m) => m.migrationTarget && /k3s-(server|agent)/.test(m.machine));
    expect(nodes.length).toBeGreaterThan(0);
    expect(composeOf(source.files).services.postgres.ports).toEqual(["5432:5432"]);
    const lines = migrationLines(source.files[COMPOSE_PG_HBA]).map((l) => l.split(/\s+/));
    expect(lines).toEqual(
      nodes.map(() => ["hostssl", "koprogo_db", "probatio_migration", expect.stringMatching(/\/32$/), "scram-sha-256"]),
    );
  });

  test("1 to 2 side by side: the new VPS only, by its public IPv4, over TLS; outside a migration the loopback only and no such line", async () => {
    const r = await renderPhase({
      roadmap: "koprogo",
      phase: 1,
      stack: "prod",
      overrides: { migration: { ...koprogo(1, 2), strategy: "side-by-side" } },
    });
    const source = r.machines.find((m) => !m.migrationTarget && m.files[COMPOSE_FILE])!;
    const target = r.machines.find((m) => m.migrationTarget && m.files[COMPOSE_FILE])!;
    expect(migrationLines(source.files[COMPOSE_PG_HBA]).map((l) => l.split(/\s+/))).toEqual([
      ["hostssl", "koprogo_db", "probatio_migration", `${target.address}/32`, "scram-sha-256"],
    ]);
    for (const n of [1, 2]) {
      for (const m of (await renderPhase({ roadmap: "koprogo", phase: n, stack: "prod" })).machines.filter((x) => x.files[COMPOSE_FILE])) {
        expect(composeOf(m.files).services.postgres.ports).toEqual(["127.0.0.1:5432:5432"]);
        expect(migrationLines(m.files[COMPOSE_PG_HBA])).toEqual([]);
      }
    }
  });
});
