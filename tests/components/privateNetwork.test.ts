import { mock, byType } from "../helpers";
import { PrivateNetwork, validatePrivateNetworkArgs } from "../../components/privateNetwork";

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

  test("isolated tiers (phase 4's database and HSM): no default gateway, the router on the subnet's first address, routes to the other tiers only", async () => {
    const run = await mock(
      () => new PrivateNetwork("network", { stack: "prod", cloudProject: "proj", isolatedTiers: ["database", "hsm"] }),
    );
    const subnets = Object.fromEntries(
      byType(run, "openstack:networking/subnet:Subnet").map((s) => [s.inputs.name, s.inputs.noGateway ?? false]),
    );
    expect(subnets).toEqual({ "prod-public": false, "prod-backend": false, "prod-database": true, "prod-hsm": true });
    const interfaces = byType(run, "openstack:networking/routerInterface:RouterInterface").map((r) => r.inputs.subnetId ?? r.inputs.portId);
    expect(interfaces.sort()).toEqual(["network-backend-id", "network-gateway-database-port-id", "network-gateway-hsm-port-id"]);
    const ports = byType(run, "openstack:networking/port:Port").map((p) => p.inputs.fixedIps);
    expect(ports).toEqual([
      [{ subnetId: "network-database-id", ipAddress: "10.0.20.1" }],
      [{ subnetId: "network-hsm-id", ipAddress: "10.0.30.1" }],
    ]);
    const routes = byType(run, "openstack:networking/subnetRoute:SubnetRoute").map(
      (r) => `${r.inputs.subnetId} ${r.inputs.destinationCidr} via ${r.inputs.nextHop}`,
    );
    // No 0.0.0.0/0 among them: the internet is reached through no route of these tiers.
    expect(routes.sort()).toEqual([
      "network-database-id 10.0.1.0/24 via 10.0.20.1",
      "network-database-id 10.0.10.0/24 via 10.0.20.1",
      "network-hsm-id 10.0.1.0/24 via 10.0.30.1",
      "network-hsm-id 10.0.10.0/24 via 10.0.30.1",
    ]);
  });

  test.each([
    [{ isolatedTiers: ["cache"] }, "argument 'isolatedTiers' names 'cache', which is not a subnet (public, backend, database, hsm)"],
    [
      { isolatedTiers: ["public"] },
      "argument 'isolatedTiers' cannot hold 'public': the gateway's own subnet (the first) routes to the internet",
    ],
    [{ subnets: { backend: "10.1.0.0/24" } }, "argument 'subnets.backend' (10.1.0.0/24) is not inside the VPC 10.0.0.0/16"],
    [{ subnets: { a: "10.0.0.0/23", b: "10.0.1.0/24" } }, "argument 'subnets.b' (10.0.1.0/24) overlaps subnets.a (10.0.0.0/23)"],
    [{ vpcCidr: "10.0.0.0" }, "argument 'vpcCidr' is not a CIDR"],
    [{ subnets: {} }, "argument 'subnets' must define at least one subnet"],
    [{ cloudProject: undefined }, "argument 'cloudProject' is required for the NAT gateway"],
  ])("validation refuses %j", (bad, message) => {
    expect(() => validatePrivateNetworkArgs({ stack: "prod", cloudProject: "p", ...(bad as object) })).toThrow(message);
  });
});
