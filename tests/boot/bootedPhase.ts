/**
 * The boot test of one phase: its machines booted once from their exact user data, then every probe against the
 * same machines (cloud-init, declared services, reboot, Prometheus targets, and the phase's own probes).
 */
import { BootNetwork } from "./harness";
import { bootPlan, BootPlan, phaseGateway } from "./phases";
import { ACME_CA, buildStandins, Standins } from "./standins";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { barePlan, makeOperator, Operator, operatorKey, sshJournal, stubCloudFacts } from "./delivered";
import { rmSync } from "fs";
import { RunResult } from "../engine/harness";
import { PhaseSettings } from "../../programs/settings";

export interface BootedPhase {
  readonly net: BootNetwork;
  readonly plan: BootPlan;
  /** Classic VPS phases: the operator whose `probatio up` configured the machines over SSH. */
  readonly operator?: Operator;
  /** What `probatio up` printed (classic VPS phases). */
  readonly up?: RunResult;
  /** Each machine's SSH host keys before probatio touched it (classic VPS phases). */
  readonly hostKeysBefore?: ReadonlyMap<string, string>;
  readonly standins: Standins;
  /** Public Cloud phases: the settings the machines' user data was rendered with, and the operator's key in it. */
  readonly settings?: Partial<PhaseSettings>;
  readonly operatorKey?: { readonly path: string; readonly publicKey: string };
  /** With `setup.acme`: the root certificate (a file) of the test network's ACME CA, that the entry's certificate chains to. */
  readonly acmeRoot?: string;
}

/**
 * How long every machine of a phase has to finish its first boot. A wait, not a measure: on 2 cores with the package
 * cache still filling (a fresh CI machine starts with none), phase 3's 14 first boots took 1,049 s in one run, and its
 * backends were still unpacking Node.js and npm after 11 minutes in another (on a loaded machine).
 */
const FIRST_BOOTS_WAIT_MS = 30 * 60_000;

/** The public name of the test stacks (the plan's), and the ACME account address of a stack with `setup.acme`. */
export const TEST_DOMAIN = "api.example.com";
const ACME_EMAIL = "oncall@example.com";

/** The SHA256 fingerprints of a machine's SSH host keys, one per line, sorted. */
export async function hostKeys(net: BootNetwork, name: string): Promise<string> {
  const r = await net.exec(name, "for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf $k | cut -d' ' -f2; done | sort");
  return r.stdout.trim();
}

/** Declares the phase's boot suite; `more` adds the phase's own probes (they run after the common ones). */
export function describeBootedPhase(
  roadmap: RoadmapId,
  phase: number,
  setup: {
    /** What `up` creates beside the machines (OVH Object Storage buckets). */
    readonly buckets: readonly string[];
    /** Settings the stack has besides the test network's (Public Cloud phases). */
    readonly settings?: Partial<PhaseSettings>;
    /**
     * The stack gets its entry's certificate by ACME (`acmeEmail`, `acmeDirectory`) from the test network's CA (Pebble),
     * its domain leading to `entry` (Public Cloud phases).
     */
    readonly acme?: { readonly entry: string };
  },
  more?: (booted: () => BootedPhase) => void,
): void {
  describe(`${roadmap} phase ${phase}, booted from its user data`, () => {
    let net: BootNetwork;
    let plan: BootPlan;
    let operator: Operator | undefined;
    let up: RunResult | undefined;
    let settings: Partial<PhaseSettings> | undefined;
    let key: ReturnType<typeof operatorKey> | undefined;
    let acmeRoot: string | undefined;
    const hostKeysBefore = new Map<string, string>();
    const standins = buildStandins();
    const t0 = Date.now();
    const log = (line: string) => process.stderr.write(`[boot ${roadmap} ${phase}] ${line}\n`);

    beforeAll(async () => {
      const classicVps = environmentFor(getPhase(roadmap, phase), "prod").topology.fleets.every((f) => f.variant === "ovh-vps");
      // Public Cloud phases: the stack had its application release set before `up`, so the backends start it at first boot.
      const gateway = phaseGateway(roadmap, phase);
      const release = standins.releases[0];
      if (!classicVps) {
        // The stack's settings: the operator's key (MachineConfig's deliveries reach the machines with it), the release.
        key = operatorKey();
        settings = {
          ...setup.settings,
          sshPublicKey: key.publicKey,
          releases: { backend: { url: `http://${gateway}:8080/${release.path}`, sha256: release.sha256 } },
          ...(setup.acme
            ? { domain: TEST_DOMAIN, acme: { email: ACME_EMAIL, directory: `https://${ACME_CA.name}:${ACME_CA.port}/dir` } }
            : {}),
        };
      }
      plan = await bootPlan(roadmap, phase, "prod", settings ?? {});
      if (!classicVps) {
        const names: Record<string, string> = setup.acme ? { [TEST_DOMAIN]: setup.acme.entry } : {};
        net = await BootNetwork.create(`${roadmap}${phase}`, plan.gateway, plan.prefixLength, plan.machines, standins, undefined, names);
        if (setup.acme) acmeRoot = await net.startAcmeCa(standins);
        for (const b of setup.buckets) await net.createBucket(b);
        await net.boot(plan.machines);
        return;
      }
      // Classic VPS: ordered bare, then configured by `probatio up` over SSH (the configuration is not their user data).
      const facts = stubCloudFacts(roadmap, phase);
      // The STUB cloud orders each VPS under its own service name and lists the address the plan gave it.
      const vpsIps = Object.fromEntries(plan.machines.map((m) => [facts.serviceNames.get(m.name) ?? m.name, [m.address]]));
      operator = await makeOperator(`pbt-${roadmap}${phase}`, plan.gateway, vpsIps);
      plan = barePlan(plan, facts.serviceNames, operator.key.publicKey);
      net = await BootNetwork.create(
        `${roadmap}${phase}`,
        plan.gateway,
        plan.prefixLength,
        plan.machines,
        buildStandins(),
        facts.s3Credentials,
      );
      for (const b of setup.buckets) await net.createBucket(b);
      await net.boot(plan.machines);
      for (const m of plan.machines) {
        const bare = await net.cloudInit(m.name);
        if (!/status: done/.test(bare.status)) throw new Error(`${m.name}: the bare VPS did not boot: ${bare.status}`);
        hostKeysBefore.set(m.name, await hostKeys(net, m.name));
      }
      log(`${plan.machines.length} bare VPS up in ${((Date.now() - t0) / 1000).toFixed(0)} s; probatio up delivers their configuration`);
      up = await operator.run(["up", "--phase", String(phase), "--stack", "prod", "--yes", "--json"]);
      log(`probatio up exited ${up.code} ${((Date.now() - t0) / 1000).toFixed(0)} s after the start`);
      if (up.code !== 0) {
        const journals = await sshJournal(
          net,
          plan.machines.map((m) => m.name),
        );
        throw new Error(`probatio up failed:\n${up.stderr.slice(-4000)}\n${journals}`);
      }
    }, 20 * 60_000);

    afterAll(async () => {
      await net?.destroy();
      operator?.remove();
      if (key) rmSync(key.dir, { recursive: true, force: true });
    }, 5 * 60_000);

    const units = async (name: string) =>
      (await net.exec(name, "cat /etc/probatio/services 2>/dev/null")).stdout.split("\n").filter(Boolean);

    test(
      "every machine's cloud-init finishes with no error, and every service probatio declares for it is active and enabled",
      async () => {
        const failures: Record<string, string[]> = {};
        // One deadline for all first boots (they run side by side), not a wait per machine: the first machine asked
        // may be the last to finish (phase 3's backends unpack ~620 packages each, Node.js and npm's).
        const deadline = Date.now() + FIRST_BOOTS_WAIT_MS;
        for (const m of plan.machines) {
          const r = await net.cloudInit(m.name, Math.max(deadline - Date.now(), 10_000));
          log(`${m.name}: cloud-init ${r.status.split("\n")[0]} ${((Date.now() - t0) / 1000).toFixed(0)} s after the start`);
          const down: string[] = [];
          for (const unit of await units(m.name)) {
            const s = (await net.exec(m.name, `systemctl is-active ${unit}; systemctl is-enabled ${unit}`)).stdout
              .trim()
              .split("\n")
              .join(" ");
            // PostgreSQL's cluster units are enabled by Debian's generator at each boot ("enabled-runtime").
            if (!/^active enabled(-runtime)?$/.test(s)) down.push(`${unit}: ${s}`);
          }
          if (r.errors.length > 0 || !/status: done/.test(r.status) || down.length > 0) failures[m.name] = [r.status, ...r.errors, ...down];
        }
        log(`${plan.machines.length} machines booted in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${await net.memoryMiB()} MiB resident`);
        expect(failures).toEqual({});
      },
      FIRST_BOOTS_WAIT_MS + 5 * 60_000,
    );

    // Phases with a monitoring machine: Prometheus scrapes every machine of the phase (the monitoring machine's own
    // exporter included) and itself, and every target is UP.
    if (environmentFor(getPhase(roadmap, phase), "prod").topology.fleets.some((f) => f.role === "monitoring")) {
      test("Prometheus on the monitoring machine reports every scrape target UP, one node exporter per machine", async () => {
        const monitoring = plan.machines.find((m) => m.role === "monitoring")!;
        const targets = await prometheusTargets(net, monitoring.name);
        expect(targets.filter((t) => t.health !== "up")).toEqual([]);
        expect(targets.filter((t) => t.job.startsWith("node-")).length).toBe(plan.machines.length - 1);
        expect(targets.map((t) => t.job)).toContain("prometheus");
      });
    }

    more?.(() => ({ net, plan, operator, up, hostKeysBefore, standins, settings, operatorKey: key, acmeRoot }));

    test(
      "after a reboot, every declared service is active again",
      async () => {
        const down: string[] = [];
        // Every machine rebooted at once (a host's maintenance, or simply the quickest way to prove each comes back).
        await Promise.all(
          plan.machines.map(async (m) => {
            await net.restart(m.name);
            // systemd brings the machine up: wait for it to settle, then every unit must be active.
            await net.exec(m.name, "timeout 120 systemctl is-system-running --wait >/dev/null 2>&1; true", 180_000);
            for (const unit of await units(m.name)) {
              const s = (await net.exec(m.name, `systemctl is-active ${unit}`)).stdout.trim();
              if (s !== "active") {
                const why = (await net.exec(m.name, `journalctl -b -u ${unit} -n 6 --no-pager -o cat`)).stdout.trim();
                down.push(`${m.name} ${unit}: ${s}\n${why}`);
              }
            }
          }),
        );
        expect(down.sort()).toEqual([]);
      },
      15 * 60_000,
    );
  });
}

/** Prometheus's view of its scrape targets, asked on the monitoring machine (its 9090 is fenced from the network). */
async function prometheusTargets(net: BootNetwork, monitoring: string): Promise<{ job: string; instance: string; health: string }[]> {
  for (let i = 0; i < 60; i++) {
    const r = await net.exec(monitoring, "curl -s -m 5 http://127.0.0.1:9090/api/v1/targets");
    if (r.code === 0 && r.stdout) {
      const targets = (JSON.parse(r.stdout).data?.activeTargets ?? []) as { labels: { job: string; instance: string }; health: string }[];
      const list = targets.map((t) => ({ job: t.labels.job, instance: t.labels.instance, health: t.health }));
      // Prometheus scrapes every 15 s: wait until every target has been scraped once.
      if (list.length > 0 && list.every((t) => t.health !== "unknown")) return list;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return [];
}

/** What the STAND-IN release's GET /probe answers. */
export interface ProbeAnswer {
  readonly version: string;
  readonly host: string;
  readonly row: number;
  readonly redis?: string;
  readonly redisMaster?: string;
  readonly redisVia?: string;
}

/** curl's arguments for HTTPS at `entry`: verified for the stack's name against `root` (an ACME stack), else -k. */
export function entryUrl(entry: string, root?: string): { readonly args: string; readonly base: string } {
  return root
    ? { args: `--cacert ${root} --resolve ${TEST_DOMAIN}:443:${entry}`, base: `https://${TEST_DOMAIN}` }
    : { args: "-k", base: `https://${entry}` };
}

/**
 * GET /probe at the phase's HTTPS entry until it answers (the backends' first health checks), then its JSON. Without
 * ACME HAProxy serves the certificate made at first boot: -k then.
 */
export async function probeEntry(net: BootNetwork, entry: string, acmeRoot?: string): Promise<ProbeAnswer> {
  const deadline = Date.now() + 120_000;
  const url = entryUrl(entry, acmeRoot);
  const ask = () => net.probe(`curl -fsS -m 20 ${url.args} ${url.base}/probe`);
  let answer = await ask();
  while (answer.code !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    answer = await ask();
  }
  if (answer.code !== 0) {
    // Which hop fails: the first backend asked directly.
    const direct = await net.probe("curl -sS -m 20 http://10.1.0.100:3000/probe");
    throw new Error(`through ${entry}: ${answer.stderr.trim()}; backend 1 directly: ${direct.stdout}${direct.stderr}`);
  }
  return JSON.parse(answer.stdout) as ProbeAnswer;
}

/**
 * The host that wrote probe row `row`, as `machine`'s PostgreSQL has it, asking up to `tries` times 500 ms apart (a
 * standby replays it shortly; 1 try when it must be there already).
 */
export async function probeRowOn(net: BootNetwork, machine: string, row: number, expected: string, tries = 20): Promise<string> {
  let host = "";
  for (let i = 0; i < tries && host !== expected; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 500));
    host = (await net.exec(machine, `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${row}"`)).stdout.trim();
  }
  return host;
}
