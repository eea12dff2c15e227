/**
 * Classic VPS as OVH delivers them: bare Debian 12 machines that let the operator's key in (the order's public key),
 * then configured by a real `probatio up`: the real engine, the STUB cloud (the VPS's service names resolve to the
 * booted machines on the test network), and MachineConfig's delivery over real SSH. The operator's probatio runs in
 * the test network's namespace, as an operator's laptop reaches the machines.
 */
import { createHash } from "crypto";
import { execFile, execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { join } from "path";
import { BootPlan, standinVendors } from "./phases";
import type { BootNetwork } from "./harness";
import { configure, makeSandbox, repoRoot, runCli, RunResult, Sandbox } from "../engine/harness";
import { RoadmapId } from "../../programs/roadmaps";
import type { DeliveryRequest, DeliveryResult } from "../../components/delivery/deliver";

interface SnapshotResource {
  readonly urn: string;
  readonly type: string;
  readonly inputs: Record<string, unknown>;
}

const stubHash = (urn: string) => createHash("sha256").update(urn).digest("hex");

/** The STUB cloud's answers for this phase (tests/stub-provider): VPS service names and the S3 credential. */
export function stubCloudFacts(roadmap: RoadmapId, phase: number, stack = "prod") {
  const file = join(repoRoot, "tests", "snapshot", "declared", `${roadmap}-${phase}-${stack}.json`);
  const resources = (JSON.parse(readFileSync(file, "utf8")) as { resources: SnapshotResource[] }).resources;
  const serviceNames = new Map(
    resources
      .filter((r) => r.type === "ovh:Vps/vps:Vps")
      .map((r) => [String(r.inputs.displayName), `vps-${stubHash(r.urn).slice(0, 8)}.vps.ovh.net`]),
  );
  const s3 = resources.find((r) => r.type === "ovh:CloudProject/s3Credential:S3Credential");
  const s3Credentials = s3 ? { key: `AK${stubHash(s3.urn).slice(0, 16)}`, secret: stubHash(s3.urn) } : undefined;
  return { serviceNames, s3Credentials };
}

export interface Operator {
  readonly sandbox: Sandbox;
  readonly keyDir: string;
  /** The operator's private key (PROBATIO_SSH_KEY) and public key. */
  readonly key: { readonly path: string; readonly publicKey: string };
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  newKey(name: string): { path: string; publicKey: string };
  remove(): void;
}

/** The operator: a key pair, a probatio project (STUB cloud, file backend), and probatio run on the test network. */
export async function makeOperator(
  netns: string,
  gateway: string,
  /** What the STUB cloud's API lists for each VPS it orders (by service name): the addresses the test boots them at. */
  vpsIps: Readonly<Record<string, readonly string[]>>,
): Promise<Operator> {
  const keyDir = mkdtempSync("/var/tmp/probatio-boot-keys-");
  const newKey = (name: string) => keyPair(keyDir, name);
  const key = newKey("operator");
  // Real SSH, not the engine tests' stand-in machines.
  const sandbox = makeSandbox({
    PROBATIO_DELIVERY_STANDIN: "",
    PROBATIO_SSH_KEY: key.path,
    PROBATIO_SSH_WAIT_SECONDS: "120",
    PROBATIO_STUB_VPS_IPS: JSON.stringify(vpsIps),
  });
  await configure(sandbox, "prod");
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(sandbox, args, env, netns);
  for (const [k, v] of [
    ["sshPublicKey", key.publicKey],
    ["vendorSources", JSON.stringify(standinVendors(gateway))],
  ]) {
    // Before the network exists: configuration needs none.
    const r = await runCli(sandbox, ["config", "set", "--stack", "prod", k, v]);
    if (r.code !== 0) throw new Error(`config set ${k}: ${r.stderr}`);
  }
  return { sandbox, keyDir, key, run, newKey, remove: () => rmSync(keyDir, { recursive: true, force: true }) };
}

/** A bare VPS's first boot: OVH's image with the order's public key for the default user, nothing of probatio's. */
export function bareVpsUserData(serviceName: string, publicKey: string): string {
  return `#cloud-config\nhostname: ${serviceName.split(".")[0]}\nssh_authorized_keys:\n  - ${publicKey}\n`;
}

/** The boot plan's classic VPS, under the service names the STUB cloud gives them, booted bare. */
export function barePlan(plan: BootPlan, serviceNames: ReadonlyMap<string, string>, publicKey: string): BootPlan {
  return {
    ...plan,
    machines: plan.machines.map((m) => {
      const serviceName = serviceNames.get(m.name);
      if (!serviceName) throw new Error(`no VPS named ${m.name} in the snapshot`);
      return { ...m, aliases: [serviceName], userData: bareVpsUserData(serviceName, publicKey) };
    }),
  };
}

/** An operator's key pair for a Public Cloud phase (its public key is the stack's sshPublicKey, in the user data). */
export function operatorKey(): { readonly dir: string; readonly path: string; readonly publicKey: string } {
  const dir = mkdtempSync("/var/tmp/probatio-boot-keys-");
  return { dir, ...keyPair(dir, "operator") };
}

/** An ed25519 key pair `dir/name` (no passphrase). */
function keyPair(dir: string, name: string): { path: string; publicKey: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `operator-${name}@probatio-boot-test`, "-f", path]);
  return { path, publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
}

/**
 * One delivery as MachineConfig makes it (the same `deliver` of components/delivery), run from the test network's
 * namespace where the operator stands, with the operator's key (PROBATIO_SSH_KEY).
 */
export async function deliverFromNetwork(net: BootNetwork, keyPath: string, request: DeliveryRequest): Promise<DeliveryResult> {
  const module = join(repoRoot, "dist", "components", "delivery", "deliver.js");
  const script = `require(${JSON.stringify(module)}).deliver(JSON.parse(process.argv[1])).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { process.stderr.write(String(e && e.message)); process.exit(1); })`;
  try {
    return await new Promise<DeliveryResult>((resolve, reject) => {
      execFile(
        "/usr/sbin/ip",
        ["netns", "exec", net.netns, process.execPath, "-e", script, JSON.stringify(request)],
        {
          // Two minutes of SSH retries: a machine that does not answer fails the test with its reason, inside its timeout.
          env: {
            ...process.env,
            PROBATIO_SSH_KEY: keyPath,
            PROBATIO_DELIVERY_STANDIN: "",
            SSH_AUTH_SOCK: "",
            PROBATIO_SSH_WAIT_SECONDS: "120",
          },
          timeout: 240_000,
        },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`delivery to ${request.machine} failed: ${stderr || err.message}`));
          // A delivery whose promise never settled exits 0 with nothing printed: a failure, named, not a parse error.
          if (!stdout) return reject(new Error(`delivery to ${request.machine} ended without a result${stderr ? `: ${stderr}` : ""}`));
          resolve(JSON.parse(stdout) as DeliveryResult);
        },
      );
    });
  } catch (err) {
    // What the machine's SSH server said of it: a failed delivery names the server's side too.
    throw new Error(`${(err as Error).message}\n${await sshJournal(net, [request.machine])}`);
  }
}

/** The last lines of the SSH server's journal on each machine (what a failed SSH delivery is read with). */
export async function sshJournal(net: BootNetwork, machines: readonly string[]): Promise<string> {
  const parts = [];
  for (const m of machines) {
    const r = await net
      .exec(m, "journalctl -u ssh.service -n 25 --no-pager -o short-monotonic 2>&1; ss -tnp state all '( sport = :22 )' 2>&1 | tail -n 12")
      .catch((e: Error) => ({ stdout: e.message }));
    parts.push(`--- ${m}: sshd's journal and port 22\n${r.stdout}`);
  }
  return parts.join("\n");
}
