import * as pulumi from "@pulumi/pulumi";

/** How a machine is bought: a classic OVH VPS order, or an OVH Public Cloud (OpenStack) instance. */
export type MachineVariant = "public-cloud" | "ovh-vps";

/** The machines a component creates: how they are bought and attached. The one machine-options type of every component. */
export interface MachineOptions {
  /**
   * "public-cloud" (OpenStack instance) or "ovh-vps" (classic VPS order).
   * @default "public-cloud"
   */
  readonly variant?: MachineVariant;
  /** Flavour name (public-cloud) or VPS plan code (ovh-vps). */
  readonly offer: string;
  /**
   * SSH public key installed on the machines (classic VPS: at the order; instances: by cloud-init).
   * @default none
   */
  readonly sshPublicKey?: pulumi.Input<string>;
  /**
   * OpenStack key pair name (public-cloud).
   * @default none
   */
  readonly keyPair?: pulumi.Input<string>;
  /**
   * Private network to attach (public-cloud).
   * @default none (public network only)
   */
  readonly networkId?: pulumi.Input<string>;
  /**
   * Fixed private address of each machine on `networkId`, in order (public-cloud).
   * @default DHCP
   */
  readonly fixedIps?: readonly string[];
  /**
   * The jump host through which machines with no public interface receive their configuration over SSH.
   * @default none
   */
  readonly sshJump?: pulumi.Input<string>;
  /**
   * Security group names (public-cloud).
   * @default none
   */
  readonly securityGroups?: readonly pulumi.Input<string>[];
  /**
   * The same groups by id, for the network ports a component makes for its machines (a port names groups by id).
   * @default none
   */
  readonly securityGroupIds?: readonly pulumi.Input<string>[];
  /**
   * The nftables ruleset of the machines' host firewall (classic VPS: they have no security group).
   * @default none
   */
  readonly hostFirewall?: pulumi.Input<string>;
}
