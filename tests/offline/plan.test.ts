import { cloudInitFiles, named, byType, plan } from "../helpers";
import { runUnderMocks } from "../../offline/mockRun";
import { buildPhase } from "../../programs/phase";
import { planSettings } from "../../offline/plan";

// Each plan runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(60_000);

describe("ProbatioVault phase 0 under mocks", () => {
  test("prod: 4 separate classic VPS named <stack>-<role>-<n> with the seed's sizes", async () => {
    const p = await plan("probatio", 0, "prod");
    const vps = byType(p, "ovh:Vps/vps:Vps");
    expect(vps.map((v) => v.inputs.displayName).sort()).toEqual(["prod-api-1", "prod-backend-1", "prod-ci-runner-1", "prod-database-1"]);
    const plan0 = (name: string) =>
      (named(p, name).inputs.plans as { planCode: string; configurations: { label: string; value: string }[] }[])[0];
    expect(plan0("backend-1").planCode).toBe("vps-2025-model1");
    expect(plan0("ci-runner-1").planCode).toBe("vps-2025-model1"); // VPS-1: the smallest 2025 plan (8 GB)
    expect(plan0("backend-1").configurations).toEqual([
      { label: "vps_datacenter", value: "GRA" },
      { label: "vps_os", value: "Debian 12" },
    ]);
  });

  test("prod: daily PostgreSQL backup to a protected, versioned, encrypted Object Storage bucket", async () => {
    const p = await plan("probatio", 0, "prod");
    const bucket = named(p, "postgres-backups");
    expect(bucket.type).toBe("ovh:CloudProject/storage:Storage");
    expect(bucket.protect).toBe(true);
    expect(bucket.inputs).toMatchObject({
      name: "prod-pg-backups",
      regionName: "GRA",
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
    });
    expect(named(p, "postgres-primary-1").protect).toBe(true);
    expect(named(p, "backend-1").protect).toBe(false);
  });

  test("dev: one all-in-one VPS of 6 vCores / 12 GB running backend, API, PostgreSQL, SonarQube and the GitLab Runner", async () => {
    const p = await plan("probatio", 0, "dev");
    const vps = byType(p, "ovh:Vps/vps:Vps");
    expect(vps).toHaveLength(1);
    expect(vps[0].inputs.displayName).toBe("dev-allinone-1");
    expect((vps[0].inputs.plans as { planCode: string }[])[0].planCode).toBe("vps-2025-model2");
    expect(p.environment).toBe("dev");
  });

  test("test: one VPS", async () => {
    const p = await plan("probatio", 0, "test");
    expect(byType(p, "ovh:Vps/vps:Vps").map((v) => v.inputs.displayName)).toEqual(["test-allinone-1"]);
  });

  test("plan JSON masks secrets: the database password never appears", async () => {
    const p = await plan("probatio", 0, "dev");
    expect(JSON.stringify(p)).not.toContain("plan-placeholder-password");
    expect(p.componentOutputs["allinone"].userData).toEqual(["[secret]"]);
  });

  test("the database machine's cloud-init carries the daily backup cron, pg_hba restricted to the private network, and the pgBackRest repo", async () => {
    const run = await runUnderMocks(() => buildPhase(planSettings({ roadmap: "probatio", phase: 0, stack: "prod" })) as never, {
      project: "probatio",
      stack: "prod",
      revealSecrets: true,
    });
    const userData = (run.componentOutputs["postgres-primary"].userData as string[])[0];
    const files = cloudInitFiles(userData);
    expect(files["/etc/cron.d/probatio-pg-backup"]).toContain("0 3 * * * postgres pgbackrest --stanza=prod --type=full backup");
    expect(files["/etc/pgbackrest/pgbackrest.conf"]).toContain("repo1-s3-bucket=prod-pg-backups");
    expect(files["/etc/pgbackrest/pgbackrest.conf"]).toContain("repo1-retention-full=30");
    // Classic VPS have no private network: only the backend and API machines, by their public IPv4 (/32), over TLS.
    const hba = files["/etc/postgresql/15/main/pg_hba.conf"];
    expect(hba.match(/^hostssl app\s+app\s+192\.0\.2\.\d+\/32\s+scram-sha-256$/gm)).toHaveLength(2);
    expect(hba).not.toMatch(/^host\s+app/m);
    expect(files["/etc/postgresql/15/main/pg_hba.conf"]).toMatch(/0\.0\.0\.0\/0\s+reject/);
    expect(files["/etc/postgresql/15/main/conf.d/probatio.conf"]).toContain("archive_command = 'pgbackrest --stanza=prod archive-push %p'");
  });

  test("the estimate compares the itemised cost with the seed's ~70 EUR for the three environments", async () => {
    const p = await plan("probatio", 0, "prod");
    expect(p.estimate.seedMonthlyEur).toBe(70);
    // prod: 4 x VPS-1 (4.20) + backups 5; dev VPS-2 (6.75) + 1; test VPS-1 (4.20) + 1.
    expect(p.estimate.monthlyEur).toBe(21.8);
    expect(p.estimate.allEnvironmentsMonthlyEur).toBe(34.75);
    expect(p.estimate.items.map((i) => [i.price, i.source])).toEqual([
      ["vps-2025-model1", "hand"],
      ["vps-2025-model1", "hand"],
      ["vps-2025-model1", "hand"],
      ["vps-2025-model1", "hand"],
      ["object-storage-backups-daily", "hand"],
    ]);
    // Phase 0's classic VPS have no cloud firewall the rules could read (their host firewall is the zero-trust issue's).
    expect(p.policy).toEqual({ violations: [], counts: { mandatory: 0, advisory: 0 } });
  });
});
