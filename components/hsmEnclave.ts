import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "./validation";

export interface HsmKeySpec {
  readonly name: string;
  /** "oct" (AES, encrypt/decrypt/wrap) or "EC" (signatures). */
  readonly type: "oct" | "EC";
}

export interface HsmEnclaveArgs {
  /** Stack name (display names). */
  readonly stack: string;
  /**
   * OVHcloud KMS region.
   * @default "eu-west-rbx"
   */
  readonly region?: string;
  /**
   * Service keys.
   * @default a master key (AES-256) and a signing key (EC P-256)
   */
  readonly keys?: readonly HsmKeySpec[];
  /** Identity URNs allowed to use the mTLS client credential (the backend's). */
  readonly identityUrns: readonly pulumi.Input<string>[];
  /**
   * Credential validity in days.
   * @default 365
   */
  readonly credentialValidityDays?: number;
  /** The HSM subnet's CIDR and the backend's: recorded in outputs so reviews can see who may reach it. */
  readonly hsmSubnet: string;
  readonly backendSubnet: string;
  /**
   * Port the backend reaches the HSM on.
   * @default 9000 (seed)
   */
  readonly port?: number;
}

export function defaultHsmKeys(names: readonly string[]): HsmKeySpec[] {
  return names.map((n) => ({ name: n, type: /sign/.test(n) ? "EC" : "oct" }));
}

export function validateHsmEnclaveArgs(args: HsmEnclaveArgs): void {
  const keys = args.keys ?? defaultHsmKeys(["master-key", "signing-key"]);
  if (keys.length === 0) throw new ArgumentError("HsmEnclave", "keys", "must define at least one key");
  const names = keys.map((k) => k.name);
  if (new Set(names).size !== names.length) throw new ArgumentError("HsmEnclave", "keys", "names must be unique");
  if (args.identityUrns.length === 0)
    throw new ArgumentError("HsmEnclave", "identityUrns", "must name the identity that uses the mTLS credential");
  const days = args.credentialValidityDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new ArgumentError("HsmEnclave", "credentialValidityDays", `must be 1-365 (got ${days})`);
}

/** OVHcloud KMS with service keys and an mTLS client credential for the backend. Keys are protected. */
export class HsmEnclave extends pulumi.ComponentResource {
  public readonly endpoint: pulumi.Output<string>;
  public readonly keyIds: Record<string, pulumi.Output<string>>;
  public readonly port: number;

  constructor(name: string, args: HsmEnclaveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:security:HsmEnclave", name, {}, opts);
    validateHsmEnclaveArgs(args);
    const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
    const kms = new ovh.okms.Okms(
      `${name}-kms`,
      {
        ovhSubsidiary: "FR",
        region: args.region ?? "eu-west-rbx",
        displayName: `${args.stack}-hsm`,
      },
      { parent: this, protect: true },
    );
    this.keyIds = {};
    for (const k of args.keys ?? defaultHsmKeys(["master-key", "signing-key"])) {
      const key = new ovh.okms.ServiceKey(
        `${name}-${k.name}`,
        k.type === "oct"
          ? {
              okmsId: kms.id,
              name: `${args.stack}-${k.name}`,
              type: "oct",
              size: 256,
              operations: ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            }
          : { okmsId: kms.id, name: `${args.stack}-${k.name}`, type: "EC", curve: "P-256", operations: ["sign", "verify"] },
        { parent: this, protect: true },
      );
      this.keyIds[k.name] = key.id;
    }
    new ovh.okms.Credential(
      `${name}-backend-mtls`,
      {
        okmsId: kms.id,
        name: `${args.stack}-backend`,
        description: "mTLS client credential of the backend",
        identityUrns: [...args.identityUrns],
        validity: args.credentialValidityDays ?? 365,
      },
      { parent: this, additionalSecretOutputs: ["privateKeyPem"] },
    );
    this.endpoint = kms.restEndpoint;
    this.port = args.port ?? 9000;
    this.registerOutputs({
      endpoint: this.endpoint,
      keyIds: this.keyIds,
      allowedFrom: args.backendSubnet,
      subnet: args.hsmSubnet,
      port: this.port,
    });
  }
}
