import * as pulumi from "@pulumi/pulumi";
import { join } from "path";
import { SshEndpoint } from "./access";
import { configDigest } from "./configuration";

export interface MachineConfigArgs {
  /** The machine's name (its host name). */
  readonly machine: string;
  /** Its address: a public address or a VPS's service name; the private address when `jump` is set. */
  readonly host: pulumi.Input<string>;
  /** The configuration: the machine's cloud-init user data (secret: it carries the machine's passwords). */
  readonly userData: pulumi.Input<string>;
  /**
   * SSH user (root through sudo).
   * @default "debian"
   */
  readonly user?: string;
  /**
   * The jump host a machine with no public interface is reached through.
   * @default none (reached directly)
   */
  readonly jump?: pulumi.Input<{ host: pulumi.Input<string>; port?: number; user?: string }>;
}

interface Inputs {
  machine: string;
  host: string;
  user?: string;
  jump?: SshEndpoint;
  userData: string;
  digest: string;
}

interface Outputs {
  machine: string;
  host: string;
  jumpHost: string;
  /** Digest of the configuration the program declares. */
  digest: string;
  /** Digest of the configuration the machine runs (written by a delivery, read back by `refresh`). */
  appliedDigest: string;
  hostKey: string;
  jumpHostKey: string;
  lastDelivery: string;
}

/** The compiled delivery module: the running probatio's (set by its CLI), else the one this program was built from. */
const DELIVERY_MODULE = join(__dirname, "deliver.js");

/*
 * The provider runs in Pulumi's dynamic-provider process, which receives these functions serialized: each loads the
 * delivery code by path, so that the serialized text stays small and the code that runs is the installed probatio's.
 */
const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  async diff(_id, olds, news) {
    // In a preview, an address another resource is changing is unknown (this sentinel): not a move by itself.
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const differs = (a: string, b: string | undefined) => b !== unknown && a !== (b ?? "");
    const moved = differs(olds.host, news.host) || differs(olds.jumpHost ?? "", news.jump?.host);
    return {
      // Another machine (a rebuilt one): its host key is pinned anew.
      replaces: moved ? ["host"] : [],
      changes: moved || olds.appliedDigest !== news.digest || olds.digest !== news.digest,
      deleteBeforeReplace: false,
    };
  },
  async create(inputs) {
    if (inputs.jump && !inputs.jump.host) throw new Error(`${inputs.machine} has no public interface and its phase no SSH gateway`);
    const m = require(process.env.PROBATIO_DELIVERY_MODULE || DELIVERY_MODULE) as typeof import("./deliver");
    const r = await m.deliver({ machine: inputs.machine, target: { ...inputs, jump: inputs.jump }, userData: inputs.userData, pins: {} });
    const outs: Outputs = {
      machine: inputs.machine,
      host: inputs.host,
      jumpHost: inputs.jump?.host ?? "",
      digest: inputs.digest,
      appliedDigest: r.digest,
      hostKey: r.hostKeys.target,
      jumpHostKey: r.hostKeys.jump,
      lastDelivery: r.summary,
    };
    return { id: `${inputs.machine}@${inputs.host}`, outs };
  },
  async update(_id, olds, news) {
    const m = require(process.env.PROBATIO_DELIVERY_MODULE || DELIVERY_MODULE) as typeof import("./deliver");
    const r = await m.deliver({
      machine: news.machine,
      target: { ...news, jump: news.jump },
      userData: news.userData,
      pins: { target: olds.hostKey, jump: olds.jumpHostKey || undefined },
    });
    return {
      outs: {
        ...olds,
        digest: news.digest,
        appliedDigest: r.digest,
        jumpHostKey: r.hostKeys.jump || olds.jumpHostKey,
        lastDelivery: r.summary,
      },
    };
  },
  async read(id, props) {
    if (!props) return { id, props };
    const m = require(process.env.PROBATIO_DELIVERY_MODULE || DELIVERY_MODULE) as typeof import("./deliver");
    try {
      const jump = props.jumpHost ? { host: props.jumpHost } : undefined;
      const r = await m.readAppliedDigest({
        machine: props.machine,
        target: { host: props.host, jump },
        pins: { target: props.hostKey, jump: props.jumpHostKey || undefined },
        timeoutMs: 30_000,
      });
      return { id, props: { ...props, appliedDigest: r.digest } };
    } catch (err) {
      // A machine that cannot be reached is not deleted from the state: its configuration is delivered again on `up`.
      return { id, props: { ...props, appliedDigest: `unreachable: ${(err as Error).message.split("\n")[0]}` } };
    }
  },
  async delete() {
    // The machine keeps its configuration; deleting the machine is its own resource's business.
  },
};

/**
 * A machine's configuration, delivered over SSH and kept up to date in place: on a classic VPS (which has no user-data
 * API) from its first `up`, and on a Public Cloud instance for every change after its creation (the instance keeps
 * the user data it was created with, so a change never rebuilds it). Only what changed is rewritten, and only the
 * services those files belong to are reloaded or restarted. `refresh` reads back the digest the machine runs.
 */
export class MachineConfig extends pulumi.dynamic.Resource {
  /** Digest of the configuration the machine runs. */
  public readonly appliedDigest!: pulumi.Output<string>;
  /** The pinned SSH host key of the machine ("SHA256:..."). */
  public readonly hostKey!: pulumi.Output<string>;
  /** What the last delivery did. */
  public readonly lastDelivery!: pulumi.Output<string>;

  constructor(name: string, args: MachineConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const userData = pulumi.secret(args.userData);
    super(
      provider,
      name,
      {
        machine: args.machine,
        host: args.host,
        user: args.user,
        jump: args.jump,
        userData,
        digest: pulumi.unsecret(pulumi.output(args.userData).apply(configDigest)),
        appliedDigest: undefined,
        hostKey: undefined,
        lastDelivery: undefined,
      },
      // Never protected (even under a protected database): deleting it changes nothing on the machine, and replacing
      // it is how a rebuilt machine's new host key is pinned.
      { ...opts, protect: false, additionalSecretOutputs: ["userData"] },
      "probatio",
      "MachineConfig",
    );
  }
}
