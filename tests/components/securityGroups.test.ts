import { mock, byType } from "../helpers";
import { SecurityGroups, validateRules, zeroTrustRules } from "../../components/securityGroups";

const tiers = { public: "10.0.1.0/24", backend: "10.0.10.0/24", database: "10.0.20.0/24", hsm: "10.0.30.0/24" };

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
    ).toThrow("only the entry's 80/443 may be open to 0.0.0.0/0 (got database tcp 5432)");
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
