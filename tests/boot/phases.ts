/**
 * A phase's machines for the boot harness: probatio's rendered user data, byte for byte, and the addresses the cloud
 * would give them. Classic VPS phases get public-side addresses of a test network of their own (TEST-NET-1), and
 * DNS that knows each VPS by its host name and its OVH service name (pg_hba names machines by host name there);
 * Public Cloud phases keep the plan's private addresses. The stack's vendor sources point at the test network's
 * STAND-IN server, as a stack without the internet would point them at its mirrors.
 */
import { VendorSources } from "../../components/config/vendor";
import { hostAddress } from "../../components/cidr";
import { renderPhase } from "../../offline/render";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { BootMachineSpec, STANDIN_PORT } from "./harness";
import { MAIL_RELAY } from "./standins";
import { PhaseSettings } from "../../programs/settings";

export interface BootPlan {
  readonly gateway: string;
  readonly prefixLength: number;
  readonly machines: readonly (BootMachineSpec & { readonly role: string })[];
}

const isIp = (a?: string) => !!a && /^\d+\.\d+\.\d+\.\d+$/.test(a);

/** The mirrors a stack in the test network sets: every vendor source on the stand-in server. */
export function standinVendors(gateway: string): VendorSources {
  const web = `http://${gateway}:${STANDIN_PORT}`;
  const apt = { url: `${web}/apt`, component: "main", keyUrl: `${web}/apt/key.asc` };
  return { gitlabRunner: { ...apt, suite: "bookworm" }, grafana: { ...apt, suite: "stable" }, npmRegistry: `${web}/npm/` };
}

/** The test network's gateway: the first address of the phase's subnet, or TEST-NET-1's for classic VPS. */
export function phaseGateway(roadmap: RoadmapId, phase: number, stack = "prod"): string {
  const topology = environmentFor(getPhase(roadmap, phase), stack).topology;
  const subnet = topology.network ? Object.values(topology.network.subnets)[0] : undefined;
  return subnet ? hostAddress(subnet, 1) : "192.0.2.1";
}

export async function bootPlan(
  roadmap: RoadmapId,
  phase: number,
  stack = "prod",
  /** Settings the stack has besides the stand-in vendors (e.g. the application's release). */
  settings: Partial<PhaseSettings> = {},
): Promise<BootPlan> {
  const topology = environmentFor(getPhase(roadmap, phase), stack).topology;
  const subnet = topology.network ? Object.values(topology.network.subnets)[0] : undefined;
  const gateway = phaseGateway(roadmap, phase, stack);
  // The test network's mirrors and SMTP relay, as a stack there would set them (vendorSources, alertSmtpRelay).
  const rendered = await renderPhase({
    roadmap,
    phase,
    stack,
    overrides: { alertSmtp: { relay: `${MAIL_RELAY.name}:${MAIL_RELAY.port}` }, ...settings, vendors: standinVendors(gateway) },
  });
  if (subnet) {
    return {
      gateway,
      prefixLength: Number(subnet.split("/")[1]),
      machines: rendered.machines.map((m) => ({ name: m.machine, role: m.role, address: m.address!, userData: m.cloudInit })),
    };
  }
  // Classic VPS: 192.0.2.0/24 (TEST-NET-1), one address each from .11, in the plan's order.
  return {
    gateway,
    prefixLength: 24,
    machines: rendered.machines.map((m, i) => ({
      name: m.machine,
      role: m.role,
      address: `192.0.2.${11 + i}`,
      userData: m.cloudInit,
      aliases: m.address && !isIp(m.address) ? [m.address] : [],
    })),
  };
}
