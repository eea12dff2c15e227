import * as pulumi from "@pulumi/pulumi";

import { createHash } from "crypto";

/** The SDK's own wait for its outstanding RPCs (what it runs before disconnecting): internal, not in its typings. */
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

/** A resource a program declares, as `probatio plan --json` prints it. */
export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly inputs: Record<string, unknown>;
  readonly protect: boolean;
  /** Kept in the cloud even when removed from the program (WORM archives). */
  readonly retainOnDelete: boolean;
  readonly custom: boolean;
  /** The resource's URN as the engine would name it (parent types included): what a rename would change. */
  urn?: string;
}

export interface MockRunResult {
  readonly resources: DeclaredResource[];
  readonly outputs: Record<string, unknown>;
  /** Outputs registered by component resources, by name (e.g. a fleet's cloud-init per machine). */
  readonly componentOutputs: Record<string, Record<string, unknown>>;
  /** The same, by the component's engine URN (names repeat while a migration holds two phases). */
  readonly componentOutputsByUrn: Record<string, Record<string, unknown>>;
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SECRET_MASK = "[secret]";

/** Turns the wire form of resource inputs into plain JSON, masking secrets as "[secret]" and unknowns as "[unknown]". */
export function plainInputs(value: unknown, revealSecrets = false): unknown {
  if (value === UNKNOWN) return "[unknown]";
  if (Array.isArray(value)) return value.map((v) => plainInputs(v, revealSecrets));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[SIG] === SECRET_SIG) return revealSecrets ? plainInputs(o.value, revealSecrets) : SECRET_MASK;
    if (o[SIG] === OUTPUT_SIG) {
      if (o.secret && !revealSecrets) return SECRET_MASK;
      return "value" in o ? plainInputs(o.value, revealSecrets) : "[unknown]";
    }
    const out: Record<string, unknown> = {};
    // A dynamic resource's serialized provider is code, not configuration: named, not copied into plans and snapshots.
    for (const [k, v] of Object.entries(o)) out[k] = k === "__provider" ? "[dynamic provider code]" : plainInputs(v, revealSecrets);
    return out;
  }
  return value;
}

/** The parts of the resource monitor's gRPC messages (generated classes without public types) that the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getObject(): { toJavaScript(): unknown } | undefined;
  getProtect?(): boolean;
  getRetainondelete?(): boolean;
  getCustom(): boolean;
}
interface RegisterResponse {
  getUrn?(): string;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): unknown } | undefined;
}

/** Deterministic stand-ins for values only the cloud knows, so that dependent inputs can be shown. */
/** The NAT gateway's public address in a plan (TEST-NET-3: public-looking, nobody's); OVH gives the real one. */
export const PLAN_NAT_EGRESS = "203.0.113.10";
/** The plan's stand-in for the port OVH's managed PostgreSQL gives a service (the one its documentation shows). */
export const PLAN_MANAGED_DATABASE_PORT = 20184;

/** A classic VPS's addresses in a plan (TEST-NET-1 and IPv6's documentation prefix); OVH's API gives the real ones. */
export function planVpsIps(serviceName: string): string[] {
  const h = createHash("sha256").update(serviceName).digest();
  return [`192.0.2.${(h[0] % 250) + 2}`, `2001:db8::${h.readUInt16BE(1).toString(16)}`];
}

function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const h = createHash("sha256").update(name).digest();
  switch (type) {
    case "openstack:compute/instance:Instance":
      return { accessIpV4: `10.0.${h[0] % 250}.${(h[1] % 250) + 2}` };
    case "ovh:Vps/vps:Vps":
      return { serviceName: `vps-${h.toString("hex").slice(0, 8)}.vps.ovh.net` };
    case "ovh:CloudProject/s3Credential:S3Credential":
      return { accessKeyId: "plan-access-key", secretAccessKey: pulumi.secret("plan-secret-key") };
    case "openstack:networking/port:Port":
      return { allFixedIps: [`10.0.${h[0] % 250}.${(h[1] % 250) + 2}`] };
    case "ovh:CloudProject/database:Database":
      // OVH's managed database answers on a port of its own (not the engine's default): the plan shows one like it.
      return {
        endpoints: [
          {
            component: "postgresql",
            domain: `postgresql-${h.toString("hex").slice(0, 8)}.database.cloud.ovh.net`,
            port: PLAN_MANAGED_DATABASE_PORT,
          },
        ],
      };
    case "ovh:CloudProject/gateway:Gateway":
      return { externalInformations: [{ networkId: inputs.networkId, ips: [{ ip: PLAN_NAT_EGRESS, subnetId: "external" }] }] };
    default:
      return { name: inputs.name ?? name };
  }
}

/**
 * Runs a Pulumi program in-process under Pulumi's mocks (no engine, no credentials) and records every resource
 * it registers: type token, name, parent, inputs (secrets masked) and protect flag.
 */
export async function runUnderMocks(
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
  opts: { project: string; stack: string; revealSecrets?: boolean },
): Promise<MockRunResult> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) } }),
      call: (args) =>
        args.token === "ovh:Vps/getVps:getVps" ? { ...args.inputs, ips: planVpsIps(String(args.inputs.serviceName)) } : args.inputs,
    },
    opts.project,
    opts.stack,
    false,
  );

  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, cb: (err: unknown, res: RegisterResponse | undefined) => void) => void;
    registerResourceOutputs: (req: OutputsRequest, cb: (err: unknown, res: unknown) => void) => void;
    newUrn: (parent: string, type: string, name: string) => string;
  };
  // The engine's URNs: the parent's whole type chain, then this type. (Pulumi's mock monitor keeps only the parent's
  // own type, which is wrong from the third level down, PostgresCluster$VpsFleet$Vps, and makes a migration's
  // source and target components share URNs.)
  monitor.newUrn = (parent, type, name) =>
    `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${parent ? parent.split("::")[2] + "$" : ""}${type}::${name}`;
  const resources: DeclaredResource[] = [];
  const componentOutputs: Record<string, Record<string, unknown>> = {};
  const componentOutputsByUrn: Record<string, Record<string, unknown>> = {};
  const urnNames = new Map<string, string>();
  let pending = 0;
  const origRegister = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    pending++;
    const parentUrn: string = req.getParent();
    const record: DeclaredResource = {
      type: req.getType(),
      name: req.getName(),
      parent: parentUrn ? (parentUrn.split("::").pop() ?? null) : null,
      inputs: plainInputs(req.getObject()?.toJavaScript() ?? {}, opts.revealSecrets) as Record<string, unknown>,
      protect: req.getProtect?.() === true,
      retainOnDelete: req.getRetainondelete?.() === true,
      custom: req.getCustom(),
    };
    resources.push(record);
    origRegister(req, (err, res) => {
      pending--;
      if (res?.getUrn) {
        record.urn = res.getUrn();
        urnNames.set(res.getUrn(), req.getName());
      }
      cb(err, res);
    });
  };
  const origOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const name = urnNames.get(req.getUrn()) ?? req.getUrn().split("::").pop() ?? req.getUrn();
    componentOutputs[name] = plainInputs(req.getOutputs()?.toJavaScript() ?? {}, opts.revealSecrets) as Record<string, unknown>;
    componentOutputsByUrn[req.getUrn()] = componentOutputs[name];
    origOutputs(req, cb);
  };

  const result = await program();
  const outputs = await new Promise<unknown>((resolve) =>
    pulumi.output(result).apply((v) => {
      resolve(v);
      return v;
    }),
  );
  // Resources created inside apply callbacks register after the outputs resolve, and a component's outputs register
  // once they resolve (an asynchronous apply: certificates signed): wait for the SDK's RPC queue to drain, nothing in
  // flight, and every component's outputs registered (each registers them last). A quiet moment alone is not enough
  // on a loaded machine: a late component's outputs then landed in the next run's collection. Bounded: a component
  // that never registers is found by the caller's comparison, not waited for forever.
  const deadline = Date.now() + 60_000;
  const silent = () => resources.some((r) => !r.custom && (!r.urn || !componentOutputsByUrn[r.urn]));
  let quiet = 0;
  while (quiet < 5) {
    await waitForRPCs();
    await new Promise((r) => setTimeout(r, 2));
    quiet = pending === 0 && (!silent() || Date.now() > deadline) ? quiet + 1 : 0;
  }
  // Registration order depends on when outputs resolve: sort so that the same program always lists the same way.
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : 1));
  return {
    resources,
    outputs: plainInputs(outputs, opts.revealSecrets) as Record<string, unknown>,
    componentOutputs,
    componentOutputsByUrn,
  };
}
