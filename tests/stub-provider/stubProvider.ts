/**
 * STUB provider plugin — a stand-in for the OVH, OpenStack, AWS and Kubernetes clouds, which cannot be reached
 * from the machines that run probatio's tests. It answers Pulumi's provider protocol (through the Node.js
 * provider server), returns the inputs plus deterministic computed outputs, and keeps its "cloud" as one JSON
 * file per resource in $PROBATIO_STUB_CLOUD (so tests can check that destroy leaves nothing).
 *
 * Installed on PATH by tests/engine/harness.ts as `pulumi-resource-<package>` wrappers; the engine uses plugins
 * found on PATH before trying any download.
 * Env: PROBATIO_STUB_CLOUD (required), PROBATIO_STUB_DELAY_MS (per create/update/delete, default 0).
 */
import { provider } from "@pulumi/pulumi";
import { createHash } from "crypto";
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "fs";
import { join } from "path";

const pkg = process.argv[2];
const cloud = process.env.PROBATIO_STUB_CLOUD;
const delayMs = Number(process.env.PROBATIO_STUB_DELAY_MS ?? "0");
if (!cloud) {
  process.stderr.write("stub provider: PROBATIO_STUB_CLOUD is not set\n");
  process.exit(1);
}
mkdirSync(cloud, { recursive: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
const nameOf = (urn: string) => urn.split("::")[3];
const file = (id: string) => join(cloud, `${id}.json`);

function computed(urn: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const h = createHash("sha256").update(urn).digest();
  const ip = `10.${h[0] % 200}.${h[1]}.${(h[2] % 250) + 2}`;
  switch (typeOf(urn)) {
    case "openstack:compute/instance:Instance":
      return { accessIpV4: ip };
    case "ovh:Vps/vps:Vps":
      return { serviceName: `vps-${h.toString("hex").slice(0, 8)}.vps.ovh.net` };
    case "ovh:CloudProject/s3Credential:S3Credential":
      return {
        accessKeyId: `AK${h.toString("hex").slice(0, 16)}`,
        secretAccessKey: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: h.toString("hex") },
      };
    case "ovh:CloudProject/database:Database":
      return {
        endpoints: [
          {
            component: "postgresql",
            domain: `postgresql-${h.toString("hex").slice(0, 6)}.database.cloud.ovh.net`,
            port: 20184,
            path: "",
            scheme: "postgresql",
            ssl: true,
            sslMode: "require",
          },
        ],
      };
    case "openstack:networking/port:Port":
      return { allFixedIps: [ip] };
    case "ovh:CloudProject/gateway:Gateway":
      // The NAT gateway's public address (TEST-NET-3: a public-looking address that is nobody's).
      return { externalInformations: [{ networkId: inputs.networkId, ips: [{ ip: `203.0.113.${(h[3] % 250) + 2}`, subnetId: "ext" }] }] };
    default:
      return { name: inputs.name ?? nameOf(urn) };
  }
}

function save(id: string, urn: string, outs: Record<string, unknown>): void {
  writeFileSync(file(id), JSON.stringify({ package: pkg, urn, outs }, null, 2));
}

/** Inputs whose change forces a replacement in the real provider (terraform-provider-openstack ForceNew, OVH VPS). */
const forceNewInputs: Record<string, string[]> = {
  "openstack:compute/instance:Instance": ["userData", "imageName", "imageId", "availabilityZone", "keyPair", "region"],
};

const stub: provider.Provider = {
  version: process.env.PROBATIO_STUB_VERSION ?? "0.0.0-stub",
  async check(_urn, _olds, news) {
    return { inputs: news };
  },
  async diff(_id, urn, olds, news) {
    const previous = (olds.__inputs ?? {}) as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(previous), ...Object.keys(news)])].filter(
      (k) => JSON.stringify(previous[k]) !== JSON.stringify(news[k]),
    );
    // Like the real providers: an instance or a classic VPS cannot change its boot data, image or size in place.
    const forceNew = forceNewInputs[typeOf(urn)] ?? [];
    const replaces = changed.filter((k) => forceNew.includes(k));
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(urn, inputs) {
    const id = `${typeOf(urn).split(":").pop()!.toLowerCase()}-${createHash("sha256").update(urn).digest("hex").slice(0, 12)}`;
    // A marker while the "cloud" works, so tests can interrupt an update in the middle of a create.
    const marker = join(cloud!, `.creating-${id}`);
    writeFileSync(marker, urn);
    await sleep(delayMs);
    unlinkSync(marker);
    const outs = { ...inputs, ...computed(urn, inputs), __inputs: inputs };
    save(id, urn, outs);
    return { id, outs };
  },
  async read(id, urn, props) {
    if (!existsSync(file(id))) return { id: "", props: {} };
    return { id, props: JSON.parse(readFileSync(file(id), "utf8")).outs ?? props };
  },
  async update(id, urn, _olds, news) {
    await sleep(delayMs);
    const outs = { ...news, ...computed(urn, news), __inputs: news };
    save(id, urn, outs);
    return { outs };
  },
  async delete(id) {
    await sleep(delayMs);
    if (existsSync(file(id))) unlinkSync(file(id));
  },
};

provider.main(stub, process.argv.slice(3)).catch((err) => {
  process.stderr.write(`stub provider ${pkg}: ${err}\n`);
  process.exit(1);
});
