import * as pulumi from "@pulumi/pulumi";
import { byType, machineFiles, mock } from "../helpers";
import { LoadBalancerPair, validateLoadBalancerPairArgs } from "../../components/loadBalancerPair";

const backends = [1, 2, 3].map((i) => ({ name: `backend${i}`, address: `10.1.0.${99 + i}`, port: 3000 }));
const network = { networkId: "net", subnetId: "subnet", cidr: "10.1.0.0/24" };

describe("LoadBalancerPair", () => {
  test("two HAProxy nodes share a keepalived VRRP virtual IP: VIP port, allowed address pairs, floating IP on the VIP", async () => {
    const run = await mock(
      () =>
        new LoadBalancerPair("lb", {
          stack: "prod",
          phase: 3,
          variant: "haproxy",
          nodes: 2,
          backends,
          network,
          virtualIp: "10.1.0.10",
          nodeIps: ["10.1.0.11", "10.1.0.12"],
          vrrp: { routerId: 51, authPass: pulumi.secret("vrrp-secret-long") },
          machines: { offer: "d2-2" },
        }),
    );
    const ports = byType(run, "openstack:networking/port:Port");
    const vip = ports.find((p) => p.name === "lb-vip")!;
    expect(vip.inputs).toMatchObject({ fixedIps: [{ subnetId: "subnet", ipAddress: "10.1.0.10" }] });
    const nodePorts = ports.filter((p) => p.name !== "lb-vip");
    expect(nodePorts.map((p) => p.inputs.allowedAddressPairs)).toEqual([[{ ipAddress: "10.1.0.10" }], [{ ipAddress: "10.1.0.10" }]]);
    expect(byType(run, "openstack:networking/floatingIpAssociate:FloatingIpAssociate")[0].inputs).toMatchObject({ portId: "lb-vip-id" });
    const master = machineFiles(run, "lb-nodes", 0)["/etc/keepalived/keepalived.conf"];
    const backup = machineFiles(run, "lb-nodes", 1)["/etc/keepalived/keepalived.conf"];
    expect(master).toContain("state MASTER");
    expect(master).toContain("priority 150");
    expect(backup).toContain("state BACKUP");
    expect(backup).toContain("priority 100");
    expect(master).toContain("virtual_router_id 51");
    expect(master).toContain("10.1.0.10/24 dev ens3");
    expect(master).toMatch(/unicast_src_ip 10\.1\.0\.11\n\s+unicast_peer {\n\s+10\.1\.0\.12\n/);
    expect(master).toContain("auth_pass vrrp-sec");
    const haproxy = machineFiles(run, "lb-nodes", 0)["/etc/haproxy/haproxy.cfg"];
    expect(haproxy).toContain("server backend1 10.1.0.100:3000 weight 100 check");
    expect(haproxy).toContain("server backend3 10.1.0.102:3000 weight 100 check");
    expect(haproxy).toContain("option httpchk GET /health");
    expect(haproxy).toContain("bind 10.1.0.11:8404");
    // The migration's hooks: the runtime API on loopback only, reads in their own backend, a disabled slot.
    expect(haproxy).toContain("stats socket ipv4@127.0.0.1:9999 level admin");
    expect(haproxy).toContain("use_backend app_reads if METH_GET");
    expect(haproxy.match(/server next 127\.0\.0\.1:1 weight 0 disabled check ssl verify required ca-file @system-ca/g)).toHaveLength(2);
  });

  test("one node: HAProxy alone, no keepalived, no VIP", async () => {
    const run = await mock(
      () => new LoadBalancerPair("lb", { stack: "prod", phase: 2, variant: "haproxy", backends, machines: { offer: "d2-2" } }),
    );
    expect(byType(run, "openstack:networking/port:Port")).toHaveLength(0);
    expect(machineFiles(run, "lb-nodes", 0)["/etc/keepalived/keepalived.conf"]).toBeUndefined();
  });

  test("managed: an Octavia load balancer with TCP listeners on 80 and 443, health monitors and the backends as members", async () => {
    const run = await mock(() => new LoadBalancerPair("lb", { stack: "prod", phase: 4, variant: "managed", backends, network }));
    expect(
      byType(run, "openstack:loadbalancer/listener:Listener")
        .map((l) => l.inputs.protocolPort)
        .sort(),
    ).toEqual([443, 80]);
    expect(byType(run, "openstack:loadbalancer/monitor:Monitor")[0].inputs).toMatchObject({
      type: "TCP",
      delay: 5,
      timeout: 3,
      maxRetries: 3,
    });
    const members = byType(run, "openstack:loadbalancer/members:Members").find((m) => m.name === "lb-members-443")!;
    expect((members.inputs.members as { address: string }[]).map((m) => m.address)).toEqual(["10.1.0.100", "10.1.0.101", "10.1.0.102"]);
  });

  test.each([
    [{ nodes: 3 }, "argument 'nodes' must be 1 or 2 (got 3)"],
    [{ nodes: 2 }, "argument 'network' is required for a VRRP pair"],
    [{ nodes: 2, network, vrrp: { routerId: 300, authPass: "x" } }, "argument 'vrrp.routerId' must be 1-255 (got 300)"],
    [
      { nodes: 2, network, vrrp: { routerId: 5, authPass: "x" }, virtualIp: "10.9.0.1", nodeIps: ["10.1.0.11", "10.1.0.12"] },
      "must be addresses inside 10.1.0.0/24 (got 10.9.0.1)",
    ],
    [{ backends: [] }, "argument 'backends' must list at least one backend"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validateLoadBalancerPairArgs({
        stack: "s",
        phase: 3,
        variant: "haproxy",
        backends,
        machines: { offer: "d2-2" },
        ...(bad as object),
      } as never),
    ).toThrow(message);
  });
});
