import { mock, byType } from "./helpers2";
import { PrivateNetwork, validatePrivateNetworkArgs } from "../../components/privateNetwork";
import { SecurityGroups, validateRules, zeroTrustRules } from "../../components/securityGroups";

const tiers = { public: "10.0.1.0/24", backend: "10.0.10.0/24", database: "10.0.20.0/24", hsm: "10.0.30.0/24" };

describe("PrivateNetwork", () => {
  test("phase 4 VPC: 10.0.0.0/16 with the four seed subnets, a gateway (NAT) and router interfaces for the other tiers", async () => {
    const run = await mock(() => new PrivateNetwork("network", { stack: "prod", cloudProject: "proj" }));
    const subnets = byType(run, "openstack:networking/subnet:Subnet");
    expect(Object.fromEntries(subnets.map((s) => [s.inputs.name, s.inputs.cidr]))).toEqual({
      "prod-public": "10.0.1.0/24",
      "prod-backend": "10.0.10.0/24",
      "prod-database": "10.0.20.0/24",
      "prod-hsm": "10.0.30.0/24",
    });
    const gw = byType(run, "ovh:CloudProject/gateway:Gateway");
    expect(gw).toHaveLength(1);
    expect(gw[0].inputs).toMatchObject({ model: "s", region: "GRA11", subnetId: "network-public-id" });
    expect(
      byType(run, "openstack:networking/routerInterface:RouterInterface")
        .map((r) => r.inputs.subnetId)
        .sort(),
    ).toEqual(["network-backend-id", "network-database-id", "network-hsm-id"]);
  });

  test.each([
    [{ subnets: { backend: "10.1.0.0/24" } }, "argument 'subnets.backend' (10.1.0.0/24) is not inside the VPC 10.0.0.0/16"],
    [{ subnets: { a: "10.0.0.0/23", b: "10.0.1.0/24" } }, "argument 'subnets.b' (10.0.1.0/24) overlaps subnets.a (10.0.0.0/23)"],
    [{ vpcCidr: "10.0.0.0" }, "argument 'vpcCidr' is not a CIDR"],
    [{ subnets: {} }, "argument 'subnets' must define at least one subnet"],
    [{ cloudProject: undefined }, "argument 'cloudProject' is required for the NAT gateway"],
  ])("validation refuses %j", (bad, message) => {
    expect(() => validatePrivateNetworkArgs({ stack: "prod", cloudProject: "p", ...(bad as object) })).toThrow(message);
  });
});

describe("SecurityGroups (zero trust)", () => {
  const rules = zeroTrustRules(tiers, []);
  const of = (group: string, direction: string) =>
    rules.filter((r) => r.group === group && r.direction === direction).map((r) => `${r.port}<-${r.remote}`);

  test("backend: ingress 443 from the load balancer only and 9100 from monitoring; egress 5432/6379/9000/443 exactly as the seed", () => {
    expect(of("backend", "ingress")).toEqual(["443<-10.0.1.0/24", "9100<-10.0.10.0/24"]);
    expect(of("backend", "egress")).toEqual(["5432<-10.0.20.0/24", "6379<-10.0.10.0/24", "9000<-10.0.30.0/24", "443<-0.0.0.0/0"]);
  });

  test("database: 5432 from the backend subnet only, no egress; HSM: 9000 from the backend subnet only, no egress", () => {
    expect(of("database", "ingress")).toEqual(["5432<-10.0.10.0/24"]);
    expect(of("database", "egress")).toEqual([]);
    expect(of("hsm", "ingress")).toEqual(["9000<-10.0.10.0/24"]);
    expect(of("hsm", "egress")).toEqual([]);
  });

  test("nothing but the load balancer's 80/443 is open to 0.0.0.0/0", () => {
    const open = rules.filter((r) => r.direction === "ingress" && r.remote === "0.0.0.0/0").map((r) => `${r.group}:${r.port}`);
    expect(open).toEqual(["lb:80", "lb:443"]);
  });

  test("SSH only from the allow-list; the whole internet is refused", () => {
    const withSsh = zeroTrustRules(tiers, ["203.0.113.7/32"]).filter((r) => r.port === 22);
    expect(withSsh.every((r) => r.remote === "203.0.113.7/32" && r.direction === "ingress")).toBe(true);
    expect(withSsh).toHaveLength(5);
    expect(() => validateRules(zeroTrustRules(tiers, ["0.0.0.0/0"]), ["0.0.0.0/0"])).toThrow(
      "argument 'sshAllowList' must not open SSH to the whole internet",
    );
    expect(() =>
      validateRules([{ group: "database", direction: "ingress", protocol: "tcp", port: 5432, remote: "0.0.0.0/0", description: "" }], []),
    ).toThrow("only the load balancer's 80/443 may be open to 0.0.0.0/0 (got database 5432)");
  });

  test("every group deletes OpenStack's default rules, so egress deny-all is real", async () => {
    const run = await mock(() => new SecurityGroups("sg", { stack: "prod", tiers }));
    const groups = byType(run, "openstack:networking/secGroup:SecGroup");
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(["prod-backend", "prod-cache", "prod-database", "prod-hsm", "prod-lb"]);
    expect(groups.every((g) => g.inputs.deleteDefaultRules === true)).toBe(true);
    const ruleRes = byType(run, "openstack:networking/secGroupRule:SecGroupRule");
    expect(ruleRes).toHaveLength(15);
    expect(ruleRes.find((r) => r.inputs.portRangeMin === 5432 && r.inputs.direction === "ingress")!.inputs).toMatchObject({
      securityGroupId: "sg-database-id",
      remoteIpPrefix: "10.0.10.0/24",
      protocol: "tcp",
      ethertype: "IPv4",
      portRangeMax: 5432,
    });
  });
});
