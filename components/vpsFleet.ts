import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IMAGE, DEFAULT_OVH_SUBSIDIARY, DEFAULT_REGION } from "../lib/defaults";
import { withAuthorizedKey } from "./config/cloudinit";
import { withHostFirewall } from "./config/hostFirewall";
import { MachineConfig } from "./delivery/machineConfig";
import { machineLabels, machineName } from "./labels";
import { MachineVariant } from "./machines";
import { isIpv4Address } from "./cidr";
import { ArgumentError, requireName, requirePositiveInteger } from "./validation";

export interface VpsFleetArgs {
  /** Role of every machine of the fleet (e.g. "backend"). */
  readonly role: string;
  /** Number of machines. 1-50. */
  readonly count: number;
  /** Phase the machines belong to (label `probatio-phase`). */
  readonly phase: number;
  /** Stack name, used in machine names. */
  readonly stack: string;
  /**
   * "public-cloud" (OpenStack instance) or "ovh-vps" (classic VPS order).
   * @default "public-cloud"
   */
  readonly variant?: MachineVariant;
  /** Flavour name (public-cloud) or plan code (ovh-vps). */
  readonly offer: string;
  /**
   * Image name.
   * @default "Debian 12"
   */
  readonly image?: string;
  /**
   * OpenStack region (public-cloud) or VPS datacenter (ovh-vps).
   * @default "GRA11"
   */
  readonly region?: string;
  /**
   * cloud-init user data, one per machine (index i goes to machine i).
   * @default none
   */
  readonly userData?: readonly pulumi.Input<string>[];
  /**
   * OpenStack key pair name (public-cloud).
   * @default none
   */
  readonly keyPair?: pulumi.Input<string>;
  /**
   * SSH public key installed on classic VPS (ovh-vps).
   * @default none
   */
  readonly sshPublicKey?: pulumi.Input<string>;
  /**
   * Private network id to attach (public-cloud).
   * @default none (public network only)
   */
  readonly networkId?: pulumi.Input<string>;
  /**
   * Fixed private address of each machine on `networkId`, or of its pre-made port (public-cloud).
   * @default DHCP
   */
  readonly fixedIps?: readonly string[];
  /** Pre-made private port of each machine, instead of networkId (public-cloud; e.g. ports allowed to claim a VIP). */
  readonly ports?: readonly pulumi.Input<string>[];
  /**
   * Also attach the public network Ext-Net.
   * @default true when there is no private network, else false
   */
  readonly publicNetwork?: boolean;
  /**
   * Security group names (public-cloud).
   * @default none
   */
  readonly securityGroups?: readonly pulumi.Input<string>[];
  /**
   * The jump host through which machines with no public interface receive their configuration (SSH's ProxyJump).
   * @default none (machines with no public interface then get their configuration at creation only)
   */
  readonly sshJump?: pulumi.Input<string>;
  /**
   * The nftables ruleset of the machines' host firewall, added to their configuration (ovh-vps).
   * @default none
   */
  readonly hostFirewall?: pulumi.Input<string>;
  /**
   * OVH subsidiary for VPS orders.
   * @default "FR"
   */
  readonly ovhSubsidiary?: string;
}

export function validateVpsFleetArgs(args: VpsFleetArgs): void {
  requireName("VpsFleet", "role", args.role);
  requirePositiveInteger("VpsFleet", "count", args.count, 50);
  if (!Number.isInteger(args.phase) || args.phase < 0)
    throw new ArgumentError("VpsFleet", "phase", `must be a phase number >= 0 (got ${args.phase})`);
  if (!args.offer) throw new ArgumentError("VpsFleet", "offer", "is required (a flavour name or a VPS plan code)");
  if (args.userData && args.userData.length !== args.count) {
    throw new ArgumentError("VpsFleet", "userData", `must have one entry per machine (${args.count}), got ${args.userData.length}`);
  }
  if (args.fixedIps && args.fixedIps.length !== args.count) {
    throw new ArgumentError("VpsFleet", "fixedIps", `must have one entry per machine (${args.count}), got ${args.fixedIps.length}`);
  }
  if (args.ports && args.ports.length !== args.count) {
    throw new ArgumentError("VpsFleet", "ports", `must have one entry per machine (${args.count}), got ${args.ports.length}`);
  }
  if (args.fixedIps && !args.networkId && !args.ports) throw new ArgumentError("VpsFleet", "fixedIps", "needs networkId or ports");
  if (args.variant === "ovh-vps" && (args.networkId || args.securityGroups?.length || args.ports)) {
    throw new ArgumentError(
      "VpsFleet",
      "networkId",
      "is for public-cloud instances; a classic VPS has no OpenStack network or security groups",
    );
  }
  if (args.hostFirewall && args.variant !== "ovh-vps") {
    throw new ArgumentError(
      "VpsFleet",
      "hostFirewall",
      "is for classic VPS (ovh-vps); Public Cloud instances are fenced by security groups",
    );
  }
}

/** N machines of one role: OVH Public Cloud instances (with anti-affinity when N > 1) or classic OVH VPS. */
export class VpsFleet extends pulumi.ComponentResource {
  /** Machine names, in order. */
  public readonly names: string[];
  /** IPv4 address of each machine: private (public-cloud on a network), else public (Ext-Net, or a classic VPS's). */
  public readonly addresses: pulumi.Output<string>[];
  /** Address on the public network of each machine (its VPS service name, or its Ext-Net address); none when private only. */
  public readonly publicAddresses: pulumi.Output<string>[];
  /** Each machine's configuration, delivered over SSH and kept up to date in place (one per machine with user data). */
  public readonly configs: MachineConfig[];
  public readonly role: string;

  constructor(name: string, args: VpsFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:compute:VpsFleet", name, {}, opts);
    validateVpsFleetArgs(args);
    this.role = args.role;
    const labels = machineLabels(args.role, args.phase, args.stack);
    const image = args.image ?? DEFAULT_IMAGE;
    const region = args.region ?? DEFAULT_REGION;
    this.names = [];
    this.addresses = [];
    this.publicAddresses = [];
    this.configs = [];
    // Every machine's configuration lets the operator's key in: the delivery's way in, kept up to date like the rest.
    // The host firewall (classic VPS) is part of the configuration too, delivered and reloaded like it.
    const userData = args.userData?.map((u) =>
      pulumi.all([u, args.sshPublicKey, args.hostFirewall]).apply(([text, key, firewall]) => {
        const keyed = key ? withAuthorizedKey(text, key) : text;
        return firewall ? withHostFirewall(keyed, firewall) : keyed;
      }),
    );
    const deliver = (i: number, host: pulumi.Input<string>, jump?: pulumi.Input<string>) => {
      const machineUserData = userData?.[i];
      if (!machineUserData) return;
      this.configs.push(
        new MachineConfig(
          `${name}-${i + 1}-config`,
          {
            machine: this.names[i],
            host,
            userData: machineUserData,
            jump: jump ? pulumi.output(jump).apply((h) => ({ host: h })) : undefined,
          },
          // One machine of a fleet at a time (a rolling change): a delivery that fails, or a release whose health check
          // fails, stops the roll before the next machine, so the others keep serving.
          { parent: this, dependsOn: this.configs.length > 0 ? [this.configs[this.configs.length - 1]] : [] },
        ),
      );
    };

    if ((args.variant ?? "public-cloud") === "ovh-vps") {
      // Loaded here, not at the top: the CLI must not pay for provider SDKs it does not use.
      const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
      for (let i = 0; i < args.count; i++) {
        const displayName = machineName(args.stack, args.role, i);
        const vps = new ovh.vps.Vps(
          `${name}-${i + 1}`,
          {
            displayName,
            ovhSubsidiary: args.ovhSubsidiary ?? DEFAULT_OVH_SUBSIDIARY,
            publicSshKey: args.sshPublicKey,
            plans: [
              {
                planCode: args.offer,
                duration: "P1M",
                pricingMode: "default",
                configurations: [
                  { label: "vps_datacenter", value: region.replace(/[0-9]+$/, "") },
                  { label: "vps_os", value: image },
                ],
              },
            ],
          },
          // The order's key and plan are the order's: a new key is delivered in place, and a bigger plan is OVH's
          // upgrade of the running VPS (a resize move), never a new order (a new VPS, without the data).
          { parent: this, ignoreChanges: ["publicSshKey", "plans"] },
        );
        this.names.push(displayName);
        // Its public IPv4 as OVH's API lists it: what its peers' allow-lists name (pg_hba, a host firewall). A host
        // name there would make every new connection depend on reverse DNS (and on the VPS's reverse never changing).
        const ips = ovh.vps.getVpsOutput({ serviceName: vps.serviceName }, { parent: this }).ips;
        this.addresses.push(
          ips.apply((list) => {
            const ipv4 = list.find(isIpv4Address);
            if (!ipv4) throw new ArgumentError("VpsFleet", "ips", `OVH lists no IPv4 address for ${displayName} (${list.join(", ")})`);
            return ipv4;
          }),
        );
        this.publicAddresses.push(vps.serviceName);
        // A classic VPS has no user-data API: its configuration goes over SSH once it answers.
        deliver(i, vps.serviceName);
      }
    } else {
      const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
      // Even a fleet of one has its anti-affinity group: a machine's scheduler hints cannot change without rebuilding
      // it (ForceNew), so the first machine must already be a member when a later phase adds the second.
      const group = new openstack.compute.ServerGroup(
        `${name}-anti-affinity`,
        {
          name: `${args.stack}-${args.role}`,
          policies: ["anti-affinity"],
          region,
        },
        { parent: this },
      );
      const publicNetwork = args.publicNetwork ?? !(args.networkId || args.ports);
      for (let i = 0; i < args.count; i++) {
        const instanceName = machineName(args.stack, args.role, i);
        const networks: { name?: string; uuid?: pulumi.Input<string>; fixedIpV4?: string; port?: pulumi.Input<string> }[] = [];
        if (publicNetwork) networks.push({ name: "Ext-Net" });
        if (args.ports) networks.push({ port: args.ports[i] });
        else if (args.networkId)
          networks.push(args.fixedIps ? { uuid: args.networkId, fixedIpV4: args.fixedIps[i] } : { uuid: args.networkId });
        const instance = new openstack.compute.Instance(
          `${name}-${i + 1}`,
          {
            name: instanceName,
            flavorName: args.offer,
            imageName: image,
            region,
            keyPair: args.keyPair,
            metadata: labels,
            networks,
            securityGroups: args.securityGroups ? [...args.securityGroups] : undefined,
            userData: userData?.[i],
            schedulerHints: [{ group: group.id }],
          },
          // The user data is the instance's first boot only: a later change is delivered in place (MachineConfig), never
          // by rebuilding the machine (the real provider replaces an instance whose user data changes). Scheduler hints
          // likewise (ForceNew): a machine created before its fleet had a group keeps running outside it.
          { parent: this, ignoreChanges: ["userData", "schedulerHints"] },
        );
        this.names.push(instanceName);
        const address = args.fixedIps ? pulumi.output(args.fixedIps[i]) : instance.accessIpV4;
        this.addresses.push(address);
        if (publicNetwork) {
          this.publicAddresses.push(instance.accessIpV4);
          deliver(i, instance.accessIpV4);
        } else if (args.sshJump) {
          deliver(i, address, args.sshJump);
        }
      }
    }
    // The cloud-init of each machine is an output too: `probatio render` reads it, and classic VPS (which have no
    // user-data API) are configured from it.
    this.registerOutputs({ names: this.names, addresses: this.addresses, userData: userData ?? [] });
  }
}
