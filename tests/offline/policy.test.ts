import { ProbatioError } from "../../lib/errors";
import { evaluatePolicies, refuseMandatory } from "../../policy/evaluate";
import { PolicyResource, rules } from "../../policy/rules";
import { planPhase } from "../../offline/plan";
import { snapshotCases } from "../snapshot/declared";
import { mask } from "../../policy/pack/mask";

// Each plan runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(60_000);

const rule = (name: string) => rules.find((r) => r.name === name)!;
const res = (type: string, inputs: Record<string, unknown>, protect = false): PolicyResource => ({ type, name: "x", inputs, protect });
const sgRule = (port: number, prefix: string, direction = "ingress") =>
  res("openstack:networking/secGroupRule:SecGroupRule", {
    direction,
    protocol: "tcp",
    portRangeMin: port,
    portRangeMax: port,
    remoteIpPrefix: prefix,
  });
const worm = (objectLock: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  res(
    "ovh:CloudProject/storage:Storage",
    { objectLock, versioning: { status: "enabled" }, encryption: { sseAlgorithm: "AES256" }, regionName: "GRA", ...extra },
    true,
  );
const deployment = (container: Record<string, unknown>, namespace = "app") =>
  res("kubernetes:apps/v1:Deployment", {
    metadata: { namespace },
    spec: { template: { spec: { containers: [{ name: "backend", ...container }] } } },
  });
const hardened = {
  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
  resources: { limits: { cpu: "1", memory: "512Mi" } },
};
const denyAll = (namespace = "app") =>
  res("kubernetes:networking.k8s.io/v1:NetworkPolicy", {
    metadata: { namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
  });

// Each rule with a case that violates it and one that complies.
describe("the zero-trust and compliance rules", () => {
  test("no world ingress but 80 and 443", () => {
    expect(rule("no-world-ingress").check(sgRule(443, "0.0.0.0/0"), [])).toEqual([]);
    expect(rule("no-world-ingress").check(sgRule(5432, "10.0.20.0/24"), [])).toEqual([]);
    expect(rule("no-world-ingress").check(sgRule(443, "0.0.0.0/0", "egress"), [])).toEqual([]);
    expect(rule("no-world-ingress").check(sgRule(22, "0.0.0.0/0"), [])).toEqual([
      "opens tcp 22 to 0.0.0.0/0: only 80/443 may be; give the rule the source tier's subnet (or the SSH allow-list) instead",
    ]);
    expect(rule("no-world-ingress").check(sgRule(5432, "::/0"), [])).toHaveLength(1);
  });

  test("every instance in a security group", () => {
    const instance = (securityGroups?: string[]) => res("openstack:compute/instance:Instance", { securityGroups });
    expect(rule("instances-fenced").check(instance(["prod-cache"]), [])).toEqual([]);
    expect(rule("instances-fenced").check(instance(), [])).toHaveLength(1);
    expect(rule("instances-fenced").check(instance([]), [])).toHaveLength(1);
    // An instance on ports of its own (the HAProxy nodes, for the VRRP address) is fenced by its ports' groups.
    const onPorts = res("openstack:compute/instance:Instance", { networks: [{ port: "port-1-id" }] });
    expect(rule("instances-fenced").check(onPorts, [])).toEqual([]);
    const onNetwork = res("openstack:compute/instance:Instance", { networks: [{ port: "port-1-id" }, { name: "Ext-Net" }] });
    expect(rule("instances-fenced").check(onNetwork, [])).toHaveLength(1);
    const port = (securityGroupIds?: string[]) => res("openstack:networking/port:Port", { securityGroupIds });
    expect(rule("instances-fenced").check(port(["sg-lb-id"]), [])).toEqual([]);
    expect(rule("instances-fenced").check(port(), [])).toEqual([
      "is a port in no security group (OpenStack gives it the project's 'default' group): give it its machine's group",
    ]);
    // A router's interface (an isolated tier's gateway), declared as one with port security off: no group applies.
    const routerPort = (portSecurityEnabled: boolean) =>
      res("openstack:networking/port:Port", { tags: ["probatio:router-interface"], portSecurityEnabled, noSecurityGroups: true });
    expect(rule("instances-fenced").check(routerPort(false), [])).toEqual([]);
    expect(rule("instances-fenced").check(routerPort(true), [])).toHaveLength(1);
  });

  test("the managed database never open to the world, and restricted at all", () => {
    const db = (ipRestrictions?: { ip: string }[]) => res("ovh:CloudProject/database:Database", { ipRestrictions }, true);
    expect(rule("managed-database-not-open").check(db([{ ip: "10.0.10.0/24" }]), [])).toEqual([]);
    expect(rule("managed-database-not-open").check(db([{ ip: "0.0.0.0/0" }]), [])).toEqual([
      "is open to 0.0.0.0/0: restrict it to the subnet of its clients",
    ]);
    expect(rule("managed-database-not-open").check(db(), [])).toHaveLength(1);
  });

  test("data stores protected", () => {
    expect(rule("data-stores-protected").check(res("ovh:CloudProject/database:Database", {}, true), [])).toEqual([]);
    expect(rule("data-stores-protected").check(res("ovh:Okms/serviceKey:ServiceKey", {}, false), [])).toEqual([
      "is not protected: declare it with `protect: true`",
    ]);
    expect(rule("data-stores-protected").check(res("openstack:compute/instance:Instance", {}, false), [])).toEqual([]);
  });

  test("WORM: compliance mode, at least 10 years, versioning and encryption", () => {
    expect(rule("worm-compliance").check(worm({ status: "enabled", rule: { mode: "compliance", period: "P10Y" } }), [])).toEqual([]);
    expect(rule("worm-compliance").check(worm({ status: "enabled", rule: { mode: "compliance", period: "P1Y" } }), [])).toEqual([
      "retains P1Y: at least P10Y",
    ]);
    expect(
      rule("worm-compliance").check(
        worm({ status: "enabled", rule: { mode: "governance", period: "P3650D" } }, { versioning: undefined }),
        [],
      ),
    ).toEqual(["locks in governance mode: use compliance (governance lets an administrator delete)", "has versioning off: enable it"]);
  });

  test("regions: France by default, the EU advised against, outside the EU refused; AWS flagged", () => {
    const at = (region: string) => res("openstack:compute/instance:Instance", { region, securityGroups: ["g"] });
    expect(rule("region-sovereignty").check(at("GRA11"), [])).toEqual([]);
    expect(rule("region-france").check(at("GRA11"), [])).toEqual([]);
    expect(rule("region-france").check(res("ovh:Okms/okms:Okms", { region: "eu-west-rbx" }), [])).toEqual([]);
    expect(rule("region-france").check(at("DE1"), [])).toEqual(["is in DE1: in the EU, but not in France"]);
    expect(rule("region-sovereignty").check(at("DE1"), [])).toEqual([]);
    expect(rule("region-sovereignty").check(at("BHS5"), [])).toEqual([
      "is in BHS5, outside the EU: choose a region in France (GRA, SBG, RBX, PAR)",
    ]);
    expect(rule("aws-sovereignty").check(res("aws:s3/bucket:Bucket", {}), [])).toHaveLength(1);
    const record = (proxied: boolean) => res("cloudflare:index/dnsRecord:DnsRecord", { name: "api.example.com", proxied });
    expect(rule("cloudflare-proxy-sovereignty").check(record(false), [])).toEqual([]);
    expect(rule("cloudflare-proxy-sovereignty").check(record(true), [])).toEqual([
      "api.example.com is proxied by Cloudflare, which decrypts the traffic outside the EU's jurisdiction; for the SecNumCloud promise set dnsProvider ovh (DNS only) or proxied off",
    ]);
  });

  test("Kubernetes: hardened containers, and a default-deny policy in their namespace", () => {
    expect(rule("kubernetes-workload-hardened").check(deployment(hardened), [])).toEqual([]);
    expect(rule("kubernetes-workload-hardened").check(deployment({}), [])).toEqual([
      "container backend may run as root: set securityContext.runAsNonRoot",
      "container backend may escalate privileges: set allowPrivilegeEscalation false",
      "container backend has no CPU or memory limit: set resources.limits",
    ]);
    const d = deployment(hardened);
    expect(rule("kubernetes-default-deny").check(d, [d, denyAll()])).toEqual([]);
    expect(rule("kubernetes-default-deny").check(d, [d, denyAll("other")])).toHaveLength(1);
  });

  test("no plaintext secret in any input, however deep", () => {
    expect(rule("no-plaintext-secret").check(res("x:y:Z", { password: "[secret]", nested: { token: "[secret]" } }), [])).toEqual([]);
    expect(rule("no-plaintext-secret").check(res("x:y:Z", { users: [{ name: "a", password: "hunter2" }] }), [])).toEqual([
      "has users.0.password in plaintext: pass it as a secret (pulumi.secret, or config set --secret)",
    ]);
  });
});

describe("probatio plan reports the rules' violations", () => {
  test("a deliberately broken resource set: each violation named with its policy, resource, level and message", () => {
    const report = evaluatePolicies([
      res("ovh:CloudProject/database:Database", { ipRestrictions: [{ ip: "0.0.0.0/0" }], password: "plain" }, false),
    ]);
    expect(report.violations.map((v) => v.policy).sort()).toEqual([
      "data-stores-protected",
      "managed-database-not-open",
      "no-plaintext-secret",
    ]);
    expect(report.counts).toEqual({ mandatory: 3, advisory: 0 });
    // What `probatio plan` does after printing such a report: exit 6 (refused), naming each policy and resource.
    let refused: unknown;
    try {
      refuseMandatory(report, "probatio phase 4 on stack 'prod'");
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(ProbatioError);
    expect((refused as ProbatioError).exitCode).toBe(6);
    expect((refused as ProbatioError).message).toBe(
      "probatio phase 4 on stack 'prod' breaks 3 mandatory policies: managed-database-not-open (ovh:CloudProject/database:Database x), data-stores-protected (ovh:CloudProject/database:Database x), no-plaintext-secret (ovh:CloudProject/database:Database x)",
    );
    const advisoryOnly = evaluatePolicies([res("aws:s3/bucketV2:BucketV2", { region: "eu-west-3" }, true)]);
    expect(advisoryOnly.counts).toEqual({ mandatory: 0, advisory: 1 });
    expect(() => refuseMandatory(advisoryOnly, "x")).not.toThrow();
  });

  test.each(snapshotCases().map((c) => [c.roadmap, c.phase, c.environment, c] as const))(
    "%s phase %d (%s): no mandatory violation; Cloudflare's proxy advised against where the phase has it",
    async (_r, _p, _e, c) => {
      const report = (await planPhase({ roadmap: c.roadmap, phase: c.phase, stack: c.stack, environment: c.environment })).policy;
      expect(report.violations.filter((v) => v.level === "mandatory")).toEqual([]);
      const advised = new Set(report.violations.map((v) => v.policy));
      expect([...advised].every((p) => p === "cloudflare-proxy-sovereignty")).toBe(true);
    },
  );

  test("ProbatioVault phase 4 is advised against Cloudflare's proxy by name, once per proxied record", async () => {
    const p4 = (await planPhase({ roadmap: "probatio", phase: 4, stack: "prod" })).policy;
    expect(p4.counts).toEqual({ mandatory: 0, advisory: 2 });
    expect(p4.violations.map((v) => `${v.policy} ${v.resource}`)).toEqual([
      "cloudflare-proxy-sovereignty cloudflare:index/dnsRecord:DnsRecord edge-entry-entry",
      "cloudflare-proxy-sovereignty cloudflare:index/dnsRecord:DnsRecord edge-origin-origin-a-1",
    ]);
  });
});

test("the engine's pack sees a secret as [secret] and an unknown as [unknown], as the plan's mocks show them", () => {
  const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
  const inputs = mask({
    metadata: { dbPassword: secret, note: "kept" },
    userData: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    list: [secret, 3],
  }) as Record<string, unknown>;
  expect(inputs).toEqual({ metadata: { dbPassword: "[secret]", note: "kept" }, userData: "[unknown]", list: ["[secret]", 3] });
  expect(rule("no-plaintext-secret").check(res("openstack:compute/instance:Instance", inputs), [])).toEqual([]);
});

test("ProbatioVault 4: each of the seed's ten zero-trust rules with what enforces it (the plan's zeroTrust)", async () => {
  const p4 = await planPhase({ roadmap: "probatio", phase: 4, stack: "prod" });
  expect(p4.zeroTrust.map((c) => c.rule)).toHaveLength(10);
  for (const c of p4.zeroTrust) expect(c.fences.length).toBeGreaterThan(0);
  const fences = Object.fromEntries(p4.zeroTrust.map((c) => [c.rule, c.fences]));
  // The backend runs on Kubernetes: its security group is attached to no machine, its pods' policies do the fencing.
  expect(fences["Backend ingress: port 443 HTTPS from the load balancer only"]).toEqual([
    "security group prod-backend: ingress tcp 443 10.0.1.0/24 (attached to no machine)",
    "NetworkPolicy probatio/backend-ingress on the backend's pods",
  ]);
  // OVH's managed PostgreSQL answers on a port of its own: the pods' policy opens that one, and the table says so.
  expect(fences["Backend egress: port 5432 PostgreSQL to the database subnet only"]).toEqual([
    "security group prod-backend: egress tcp 5432 10.0.20.0/24 (attached to no machine)",
    "NetworkPolicy probatio/backend-egress on the backend's pods (tcp 20184: the managed PostgreSQL's own port)",
  ]);
  expect(fences["Database ingress: port 5432 PostgreSQL from the backend subnet only"]).toEqual([
    "security group prod-database: ingress tcp 5432 10.0.10.0/24 (attached to no machine)",
    "managed database postgres-managed: ipRestrictions 10.0.10.0/24",
  ]);
  expect(fences["Database egress: deny all"]).toEqual([
    "security group prod-database: no egress rule, OpenStack's defaults deleted (attached to no machine)",
    "subnet prod-database: no default gateway, routes to 10.0.1.0/24, 10.0.10.0/24 only (no route to the internet)",
    "managed database postgres-managed: OVH operates it; it opens no connection of the application's",
  ]);
  expect(fences["HSM egress: deny all"]).toContain(
    "subnet prod-hsm: no default gateway, routes to 10.0.1.0/24, 10.0.10.0/24 only (no route to the internet)",
  );
  expect((await planPhase({ roadmap: "probatio", phase: 3, stack: "prod" })).zeroTrust).toEqual([]);
});

test("a stack policy handed a Kubernetes object without its properties (as the engine may at the end of an update) judges nothing and does not fail", () => {
  const empty = (type: string) => res(type, {});
  const all = [empty("kubernetes:apps/v1:Deployment"), empty("kubernetes:networking.k8s.io/v1:NetworkPolicy")];
  expect(rule("kubernetes-default-deny").check(all[0], all)).toEqual([]);
  const known = deployment(hardened);
  expect(rule("kubernetes-default-deny").check(known, [known, all[1]])).toHaveLength(1);
});
