/**
 * One delivery: reach the machine, ask what it runs, apply only what differs, and say what was done. The code the
 * MachineConfig resource runs (inside the engine's dynamic-provider process) and the boot tests call directly.
 *
 * PROBATIO_DELIVERY_STANDIN=<dir> replaces SSH with a STAND-IN machine per host under <dir> (its manifest and a log
 * of the plans it was given): the engine tests run on stub clouds, whose machines do not exist.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { HostKeyPins, openSsh, SshTarget } from "./access";
import { configDigest, parseManifest } from "./configuration";
import { DeliveryPlan, describePlan, MachineReport, planDelivery } from "./plan";
import { deliveryScript, parseReport, REPORT_SCRIPT } from "./script";

export interface DeliveryRequest {
  readonly machine: string;
  readonly target: SshTarget;
  readonly userData: string;
  readonly pins: HostKeyPins;
  /** How long to wait for the machine's SSH (a machine just ordered is still booting). @default PROBATIO_SSH_WAIT_SECONDS or 10 min */
  readonly timeoutMs?: number;
}

export interface DeliveryResult {
  /** Digest of the configuration the machine now runs. */
  readonly digest: string;
  readonly hostKeys: Required<HostKeyPins>;
  readonly plan: DeliveryPlan["kind"];
  /** What was done, in one line. */
  readonly summary: string;
}

interface Machine {
  readonly hostKeys: Required<HostKeyPins>;
  report(): Promise<MachineReport>;
  apply(plan: DeliveryPlan, script: string): Promise<void>;
  close(): void;
}

async function sshMachine(req: DeliveryRequest): Promise<Machine> {
  const session = await openSsh(req.target, req.pins, req.timeoutMs);
  return {
    hostKeys: session.hostKeys,
    async report() {
      const r = await session.run(REPORT_SCRIPT);
      if (r.code !== 0) throw new Error(`${req.machine}: cannot read its state (exit ${r.code}): ${r.stderr.trim()}`);
      return parseReport(r.stdout);
    },
    async apply(plan, script) {
      const r = await session.run(script);
      if (r.code !== 0) {
        // One line: the engine's error report keeps the first line of each failure.
        const why = r.stderr.trim().split("\n").filter(Boolean).slice(-3).join(" | ");
        throw new Error(`${req.machine}: the ${plan.kind} delivery failed (exit ${r.code}), nothing after the failing step ran: ${why}`);
      }
    },
    close: () => session.close(),
  };
}

/** The STAND-IN: a directory per host, holding the manifest and the plans given to it. */
function standinMachine(root: string, req: DeliveryRequest): Machine {
  const dir = join(root, req.target.host);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, "applied.json");
  return {
    hostKeys: { target: `SHA256:standin-${req.target.host}`, jump: req.target.jump ? `SHA256:standin-${req.target.jump.host}` : "" },
    async report() {
      return { manifest: existsSync(manifest) ? readFileSync(manifest, "utf8") : undefined };
    },
    async apply(plan) {
      if (plan.kind !== "unchanged") writeFileSync(manifest, JSON.stringify(plan.manifest));
      appendFileSync(
        join(dir, "deliveries.jsonl"),
        JSON.stringify({ machine: req.machine, plan: plan.kind, summary: describePlan(plan) }) + "\n",
      );
    },
    close: () => undefined,
  };
}

/** The machine: over SSH, or the engine tests' STAND-IN when PROBATIO_DELIVERY_STANDIN is set. */
async function openMachine(req: DeliveryRequest): Promise<Machine> {
  const standin = process.env.PROBATIO_DELIVERY_STANDIN;
  return standin ? standinMachine(standin, req) : sshMachine(req);
}

export async function deliver(req: DeliveryRequest): Promise<DeliveryResult> {
  const machine = await openMachine(req);
  try {
    const plan = planDelivery(req.userData, await machine.report());
    const script = deliveryScript(plan);
    if (script) await machine.apply(plan, script);
    return { digest: configDigest(req.userData), hostKeys: machine.hostKeys, plan: plan.kind, summary: describePlan(plan) };
  } finally {
    machine.close();
  }
}

/** The digest of the configuration a machine runs, as its manifest says ("none" before any delivery). */
export async function readAppliedDigest(
  req: Omit<DeliveryRequest, "userData">,
): Promise<{ digest: string; hostKeys: Required<HostKeyPins> }> {
  const machine = await openMachine({ ...req, userData: "" });
  try {
    const report = await machine.report();
    return { digest: parseManifest(report.manifest)?.digest ?? "none", hostKeys: machine.hostKeys };
  } finally {
    machine.close();
  }
}
