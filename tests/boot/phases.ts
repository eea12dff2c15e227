/**
 * A phase's machines for the boot harness: probatio's rendered user data, byte for byte, and the addresses the cloud
 * would give them. Classic VPS phases get the public addresses the plan gives them (TEST-NET-1, a test network of
 * their own), and DNS that knows each VPS by its host name (and by its OVH service name where a test orders them
 * through `up`); Public Cloud phases keep the plan's private addresses. The stack's vendor sources point at the test network's
 * STAND-IN server, as a stack without the internet would point them at its mirrors.
 */
import { VendorSources } from "../../components/config/vendor";
import { hostAddress, isIpv4Address } from "../../components/cidr";
import { renderPhase, RenderedMachine } from "../../offline/render";
import { PLAN_NAT_EGRESS } from "../../offline/mockRun";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { BootMachineSpec, STANDIN_PORT } from "./harness";
import { MAIL_RELAY } from "./standins";
import { MigrationState, PhaseSettings } from "../../programs/settings";

export interface BootPlan {
  readonly gateway: string;
  readonly prefixLength: number;
  readonly machines: readonly (BootMachineSpec & { readonly role: string })[];
}

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
  const rendered = await renderOnTestNetwork(roadmap, phase, stack, gateway, settings);
  return subnet
    ? { gateway, prefixLength: Number(subnet.split("/")[1]), machines: privateSpecs(rendered.machines) }
    : { gateway, prefixLength: 24, machines: classicSpecs(rendered.machines) };
}

/** The phase rendered as a stack on the test network sets it: its mirrors and SMTP relay (vendorSources, alertSmtpRelay). */
function renderOnTestNetwork(roadmap: RoadmapId, phase: number, stack: string, gateway: string, settings: Partial<PhaseSettings>) {
  return renderPhase({
    roadmap,
    phase,
    stack,
    overrides: { alertSmtp: { relay: `${MAIL_RELAY.name}:${MAIL_RELAY.port}` }, ...settings, vendors: standinVendors(gateway) },
  });
}

/** Public Cloud machines: the plan's private addresses. */
function privateSpecs(machines: readonly RenderedMachine[]): BootPlan["machines"] {
  return machines.map((m) => ({ name: m.machine, role: m.role, address: m.address!, userData: m.cloudInit }));
}

/**
 * Classic VPS: the public IPv4 the plan gives each (in TEST-NET-1, 192.0.2.0/24, as OVH's API would list it: its peers'
 * configuration names it); DNS knows them by their host names.
 */
function classicSpecs(machines: readonly RenderedMachine[]): BootPlan["machines"] {
  const specs = machines.map((m) => {
    if (!m.address || !isIpv4Address(m.address) || !m.address.startsWith("192.0.2.") || m.address === "192.0.2.1") {
      throw new Error(`${m.machine}: the plan's address ${m.address} is not a TEST-NET-1 host address`);
    }
    return { name: m.machine, role: m.role, address: m.address, userData: m.cloudInit };
  });
  const taken = new Set(specs.map((m) => m.address));
  if (taken.size !== specs.length) throw new Error(`two VPS of the plan share an address: ${specs.map((m) => m.address).join(", ")}`);
  return specs;
}

/**
 * A stack in the middle of a side-by-side migration from a classic VPS phase to a Public Cloud one: the source's
 * machines on TEST-NET-1 (as `bootPlan` puts them), the target's on their private subnet, whose traffic to the
 * source leaves through the NAT gateway's public address (the plan's; OVH gives the real one).
 */
export async function migrationBootPlan(
  roadmap: RoadmapId,
  from: number,
  to: number,
  settings: Partial<PhaseSettings> = {},
  stack = "prod",
): Promise<{ source: BootPlan; target: BootPlan; natEgress: string }> {
  const subnet = Object.values(environmentFor(getPhase(roadmap, to), stack).topology.network?.subnets ?? {})[0];
  if (!subnet || environmentFor(getPhase(roadmap, from), stack).topology.network) {
    throw new Error(`${roadmap} ${from}-to-${to}: not a move from classic VPS to a private network`);
  }
  const sourceGateway = phaseGateway(roadmap, from, stack);
  const migration: MigrationState = { roadmap, from, to, stage: "transitional", completed: [], startedAt: new Date(0).toISOString() };
  const rendered = await renderOnTestNetwork(roadmap, from, stack, sourceGateway, { ...settings, migration });
  const targetSubnet = { gateway: hostAddress(subnet, 1), prefixLength: Number(subnet.split("/")[1]) };
  return {
    source: { gateway: sourceGateway, prefixLength: 24, machines: classicSpecs(rendered.machines.filter((m) => !m.migrationTarget)) },
    target: {
      ...targetSubnet,
      machines: privateSpecs(rendered.machines.filter((m) => m.migrationTarget)).map((m) => ({ ...m, subnet: targetSubnet })),
    },
    natEgress: PLAN_NAT_EGRESS,
  };
}
