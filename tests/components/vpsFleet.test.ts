import * as pulumi from "@pulumi/pulumi";
import { runUnderMocks } from "../../offline/mockRun";
import { validateVpsFleetArgs, VpsFleet } from "../../components/vpsFleet";

const base = { role: "backend", count: 3, phase: 3, stack: "prod", offer: "b3-8" };

describe("VpsFleet", () => {
  test("public-cloud: N instances with role/phase labels and an anti-affinity server group", async () => {
    const run = await runUnderMocks(
      () => {
        const f = new VpsFleet("backend", { ...base, networkId: "net-1", securityGroups: ["sg-backend"], userData: ["a", "b", "c"] });
        return { names: f.names };
      },
      { project: "p", stack: "prod" },
    );
    const instances = run.resources.filter((r) => r.type === "openstack:compute/instance:Instance");
    expect(instances.map((i) => i.inputs.name)).toEqual(["prod-backend-1", "prod-backend-2", "prod-backend-3"]);
    expect(instances[0].inputs).toMatchObject({
      flavorName: "b3-8",
      imageName: "Debian 12",
      region: "GRA11",
      metadata: { "probatio-role": "backend", "probatio-phase": "3", "probatio-stack": "prod" },
      networks: [{ uuid: "net-1" }],
      securityGroups: ["sg-backend"],
      userData: "a",
      schedulerHints: [{ group: "backend-anti-affinity-id" }],
    });
    const group = run.resources.find((r) => r.type === "openstack:compute/serverGroup:ServerGroup")!;
    expect(group.inputs).toMatchObject({ name: "prod-backend", policies: ["anti-affinity"] });
    expect(instances.every((i) => i.parent === "backend")).toBe(true);
  });

  test("a single instance is already in its group (a later phase's second machine joins it without rebuilding the first)", async () => {
    const run = await runUnderMocks(() => ({ f: new VpsFleet("lb", { ...base, role: "lb", count: 1 }).names }), {
      project: "p",
      stack: "prod",
    });
    expect(run.resources.filter((r) => r.type === "openstack:compute/serverGroup:ServerGroup").map((r) => r.inputs.name)).toEqual([
      "prod-lb",
    ]);
    const instance = run.resources.find((r) => r.type === "openstack:compute/instance:Instance")!;
    expect(instance.inputs.schedulerHints).toEqual([{ group: "lb-anti-affinity-id" }]);
  });

  test("ovh-vps: classic VPS orders with a display name per machine", async () => {
    const run = await runUnderMocks(
      () => ({
        f: new VpsFleet("api", {
          ...base,
          role: "api",
          count: 2,
          variant: "ovh-vps",
          offer: "vps-2025-model1",
          sshPublicKey: pulumi.output("ssh-ed25519 AAAA"),
        }).names,
      }),
      { project: "p", stack: "prod" },
    );
    const vps = run.resources.filter((r) => r.type === "ovh:Vps/vps:Vps");
    expect(vps.map((v) => v.inputs.displayName)).toEqual(["prod-api-1", "prod-api-2"]);
    expect(vps[0].inputs).toMatchObject({ ovhSubsidiary: "FR", publicSshKey: "ssh-ed25519 AAAA" });
  });

  test.each([
    [{ count: 0 }, "argument 'count' must be a positive integer (got 0)"],
    [{ count: 51 }, "argument 'count' must be at most 50 (got 51)"],
    [{ role: "Back End" }, "argument 'role' must be lower-case"],
    [{ offer: "" }, "argument 'offer' is required"],
    [{ userData: ["only-one"] }, "argument 'userData' must have one entry per machine (3), got 1"],
    [{ variant: "ovh-vps", networkId: "n" }, "argument 'networkId' is for public-cloud instances"],
  ])("validation refuses %j", (bad, message) => {
    expect(() => validateVpsFleetArgs({ ...base, ...(bad as object) } as never)).toThrow(message);
  });
});
