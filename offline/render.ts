import { mkdirSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { parse, stringify } from "yaml";
import { planPhase, PlanRequest } from "./plan";

export interface RenderedMachine {
  readonly machine: string;
  readonly role: string;
  /** The machine's address as the plan knows it: its private address, or a classic VPS's public IPv4. */
  readonly address?: string;
  readonly cloudInit: string;
  /** Files cloud-init writes, by absolute path. */
  readonly files: Record<string, string>;
  /** While a side-by-side migration holds two phases: this machine is the target's (its names repeat the source's). */
  readonly migrationTarget?: boolean;
}

export interface Rendered {
  readonly machines: RenderedMachine[];
  /** Kubernetes objects created through the provider (OVH Managed Kubernetes), by resource name. */
  readonly kubernetes: Record<string, unknown>;
}

/**
 * Every file probatio would put on every machine of a phase, from the real program under mocks. Offline: the
 * secrets are placeholders (never the stack's), so the output is safe to share and review.
 */
export async function renderPhase(req: Omit<PlanRequest, "revealSecrets">): Promise<Rendered> {
  const plan = await planPhase({ ...req, revealSecrets: true });
  const machines: RenderedMachine[] = [];
  for (const r of plan.resources.filter((x) => x.type === "probatio:compute:VpsFleet")) {
    const outs = (r.urn ? plan.componentOutputsByUrn[r.urn] : plan.componentOutputs[r.name]) ?? {};
    const migrationTarget = !!r.urn?.includes("probatio:migration:NextPhase");
    const names = (outs.names as string[] | undefined) ?? [];
    const userData = (outs.userData as string[] | undefined) ?? [];
    const addresses = (outs.addresses as string[] | undefined) ?? [];
    names.forEach((machine, i) => {
      const cloudInit = userData[i];
      if (!cloudInit) return;
      const doc = parse(cloudInit.replace(/^#cloud-config\n/, ""));
      const files = Object.fromEntries((doc.write_files ?? []).map((f: { path: string; content: string }) => [f.path, f.content]));
      machines.push({
        machine,
        address: addresses[i],
        role: machine.replace(new RegExp(`^${req.stack}-`), "").replace(/-\d+$/, ""),
        cloudInit,
        files,
        ...(migrationTarget ? { migrationTarget } : {}),
      });
    });
  }
  const kubernetes: Record<string, unknown> = {};
  for (const r of plan.resources.filter((x) => x.type.startsWith("kubernetes:"))) kubernetes[r.name] = r.inputs;
  machines.sort((a, b) => Number(!!a.migrationTarget) - Number(!!b.migrationTarget) || a.machine.localeCompare(b.machine));
  return { machines, kubernetes };
}

/** Writes one folder per machine (its cloud-init and every file it carries), and kubernetes/ for cluster objects. */
export function writeRendered(rendered: Rendered, outDir: string): string[] {
  const written: string[] = [];
  const write = (path: string, content: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    written.push(path);
  };
  for (const m of rendered.machines) {
    // A migration's target machines under next/: their names repeat the source's.
    const dir = m.migrationTarget ? join(outDir, "next", m.machine) : join(outDir, m.machine);
    write(join(dir, "cloud-init.yaml"), m.cloudInit);
    for (const [path, content] of Object.entries(m.files)) write(join(dir, "files", path), content);
  }
  for (const [name, obj] of Object.entries(rendered.kubernetes)) write(join(outDir, "kubernetes", `${name}.yaml`), stringify(obj));
  return written;
}
