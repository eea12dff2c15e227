// Renames the Terraform OpenStack provider's ForceNew fields (snake_case, singular blocks) as Pulumi's SDK names the
// inputs of the types probatio declares (camelCase; list blocks pluralised: network -> networks), checked against the
// SDK's own Args interfaces so that a name that does not exist there fails loudly. Usage: node stub-force-new-map.js FILE SOURCE
const { readFileSync } = require("fs");
const { join } = require("path");
const [file, source] = process.argv.slice(2);
const tf = JSON.parse(readFileSync(file, "utf8"));
// The OpenStack types probatio declares, by their Terraform names (Pulumi's openstack provider maps one to the other).
const types = {
  "openstack:compute/instance:Instance": ["openstack_compute_instance_v2", "compute/instance", "InstanceArgs"],
  "openstack:compute/serverGroup:ServerGroup": ["openstack_compute_servergroup_v2", "compute/serverGroup", "ServerGroupArgs"],
  "openstack:loadbalancer/listener:Listener": ["openstack_lb_listener_v2", "loadbalancer/listener", "ListenerArgs"],
  "openstack:loadbalancer/loadBalancer:LoadBalancer": ["openstack_lb_loadbalancer_v2", "loadbalancer/loadBalancer", "LoadBalancerArgs"],
  "openstack:loadbalancer/members:Members": ["openstack_lb_members_v2", "loadbalancer/members", "MembersArgs"],
  "openstack:loadbalancer/monitor:Monitor": ["openstack_lb_monitor_v2", "loadbalancer/monitor", "MonitorArgs"],
  "openstack:loadbalancer/pool:Pool": ["openstack_lb_pool_v2", "loadbalancer/pool", "PoolArgs"],
  "openstack:networking/floatingIp:FloatingIp": ["openstack_networking_floatingip_v2", "networking/floatingIp", "FloatingIpArgs"],
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate": [
    "openstack_networking_floatingip_associate_v2",
    "networking/floatingIpAssociate",
    "FloatingIpAssociateArgs",
  ],
  "openstack:networking/network:Network": ["openstack_networking_network_v2", "networking/network", "NetworkArgs"],
  "openstack:networking/port:Port": ["openstack_networking_port_v2", "networking/port", "PortArgs"],
  "openstack:networking/routerInterface:RouterInterface": [
    "openstack_networking_router_interface_v2",
    "networking/routerInterface",
    "RouterInterfaceArgs",
  ],
  "openstack:networking/secGroup:SecGroup": ["openstack_networking_secgroup_v2", "networking/secGroup", "SecGroupArgs"],
  "openstack:networking/secGroupRule:SecGroupRule": [
    "openstack_networking_secgroup_rule_v2",
    "networking/secGroupRule",
    "SecGroupRuleArgs",
  ],
  "openstack:networking/subnet:Subnet": ["openstack_networking_subnet_v2", "networking/subnet", "SubnetArgs"],
};
const sdk = join(__dirname, "..", "node_modules", "@pulumi", "openstack");
const camel = (s) => s.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase());
const out = { source: `${source}: the fields whose change (or a nested field's) replaces the resource (ForceNew)`, types: {} };
for (const [type, [tfName, path, args]] of Object.entries(types)) {
  if (!tf[tfName]) throw new Error(`${tfName} is not in ${source}`);
  const dts = readFileSync(join(sdk, `${path}.d.ts`), "utf8");
  const body = dts.slice(dts.indexOf(`export interface ${args} {`));
  const names = new Set([...body.slice(0, body.indexOf("\n}")).matchAll(/^\s+(\w+)\??: /gm)].map((m) => m[1]));
  out.types[type] = tf[tfName]
    .map((f) => {
      const c = camel(f);
      const found = [c, `${c}s`, `${c}es`, c.replace(/y$/, "ies")].find((n) => names.has(n));
      // Fields Pulumi's SDK does not expose as inputs (computed only) cannot change from a program: skipped.
      return found;
    })
    .filter(Boolean);
}
// Not ForceNew, but as destructive: changing an instance's image rebuilds it in place (Update calls servers.Rebuild),
// which reinstalls its root disk. The stub replaces the instance for these, so the guards treat them like a rebuild.
out.types["openstack:compute/instance:Instance"].push("imageId", "imageName");
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
