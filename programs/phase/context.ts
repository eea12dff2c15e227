import * as pulumi from "@pulumi/pulumi";
import { machineName } from "../../components/labels";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { roleAddresses } from "../addressPlan";
import { FleetSpec, Phase, Topology } from "../roadmaps";
import { PhaseSettings } from "../settings";

/** Machines a concern declared, by role (a stack output), and the addresses Prometheus scrapes for each role. */
export interface Declared {
  readonly machines: Record<string, pulumi.Input<string[]>>;
  readonly scrape: readonly ScrapeTarget[];
}

export interface ScrapeTarget {
  readonly role: string;
  readonly addresses: readonly pulumi.Input<string>[];
}

export const nothingDeclared: Declared = { machines: {}, scrape: [] };

/**
 * What every concern of a phase reads: the settings, the phase's data for this environment, and the naming and
 * addressing rules. Immutable: concerns hand what they declare back to the composer, never through this object.
 */
export class PhaseContext {
  /** Stack, phase and region: what every component is labelled with. */
  readonly common: { readonly phase: number; readonly stack: string; readonly region: string };
  private readonly fleets: ReadonlyMap<string, FleetSpec>;

  constructor(
    readonly settings: PhaseSettings,
    readonly phase: Phase,
    readonly environment: string,
    readonly topology: Topology,
    /** Options of the phase's top-level components (a parent or aliases during a migration). */
    readonly rootOpts: pulumi.ComponentResourceOptions,
    /** How many side-by-side migrations built this stack (data stores are named per generation). */
    readonly generation: number,
    /**
     * The SSH jump host of the phase's private machines (their configuration goes through it): the first application
     * machine with a public interface. Known once the application fleets are declared.
     */
    readonly sshJump?: pulumi.Input<string>,
    /**
     * While a side-by-side migration moves this phase's data to the next: the addresses the next phase's database
     * connects from. This phase's primary lets the migration's role in from them (and from nowhere else).
     */
    readonly migrationPeers?: pulumi.Output<string[]>,
    /**
     * Every machine's address by role (classic VPS phases): their host firewalls name their peers by address. Known
     * once every fleet is declared.
     */
    readonly peerAddresses?: pulumi.Output<Record<string, string[]>>,
  ) {
    this.fleets = new Map(topology.fleets.map((f) => [f.role, f]));
    this.common = { phase: settings.phase, stack: settings.stack, region: settings.region };
  }

  /** The same context, with the SSH gateway of the phase's private machines. */
  withSshJump(sshJump: pulumi.Input<string>): PhaseContext {
    return this.with({ sshJump });
  }

  /** The same context, with every machine's address by role (what host firewalls name peers by). */
  withPeerAddresses(peerAddresses: pulumi.Output<Record<string, string[]>>): PhaseContext {
    return this.with({ peerAddresses });
  }

  private with(changes: { sshJump?: pulumi.Input<string>; peerAddresses?: pulumi.Output<Record<string, string[]>> }): PhaseContext {
    return new PhaseContext(
      this.settings,
      this.phase,
      this.environment,
      this.topology,
      this.rootOpts,
      this.generation,
      changes.sshJump ?? this.sshJump,
      this.migrationPeers,
      changes.peerAddresses ?? this.peerAddresses,
    );
  }

  /** A failure of the roadmap data itself, named by roadmap, phase and environment. */
  fail(message: string): never {
    throw new ProbatioError(
      `${this.phase.roadmap} phase ${this.phase.phase} (${this.environment}): ${message}`,
      undefined,
      ExitCode.failure,
    );
  }

  fleet(role: string): FleetSpec | undefined {
    return this.fleets.get(role);
  }

  /** The fleet of `role`, which `what` (e.g. "redis.role") names. */
  requireFleet(role: string, what: string): FleetSpec {
    return this.fleets.get(role) ?? this.fail(`${what} '${role}' has no fleet`);
  }

  /** Names of `count` machines of `role`, in order. */
  machineNames(role: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => machineName(this.settings.stack, role, i));
  }

  /** The subnet a role lives in: "private" (VPS phases) or the tier (phase 4 VPC). */
  subnetOf(role: string): string | undefined {
    const subnets = this.topology.network?.subnets;
    if (!subnets) return undefined;
    if (subnets.private) return "private";
    const fallback = subnets.backend ? "backend" : Object.keys(subnets)[0];
    if (role === "cache" || role.startsWith("k3s") || role === "backend") return fallback;
    return Object.keys(subnets).includes(role) ? role : fallback;
  }

  /** Fixed private addresses of `count` machines of `role` (from the address plan of `planRole`), if on a network. */
  fixedIps(role: string, count: number, planRole = role): string[] | undefined {
    const tier = this.subnetOf(role);
    return tier ? roleAddresses(this.topology.network!.subnets[tier], planRole, count) : undefined;
  }
}
