/**
 * The flows of a phase whose machines are Public Cloud instances fenced by role (ProbatioVault 2-3, KoproGo 3-4):
 * derived from the phase's data, so that a flow exists because a component needs it, and nothing else is open.
 * Phase 4's tiers keep the seed's own rules (components/securityGroups.ts: zeroTrustRules).
 */
import { ALLOW_LIST, Flow, WORLD } from "../../components/flows";
import { DEFAULT_ACME, ports } from "../../lib/defaults";
import { Topology } from "../roadmaps";
import { entryTerminatorRole } from "./entryTls";
import { PhaseSettings } from "../settings";

/** What every fenced machine still opens to the internet itself: name resolution, time, packages, backups, ACME. */
export const BASE_EGRESS: readonly Omit<Flow, "from">[] = [
  { to: WORLD, protocol: "udp", port: 53, why: "DNS" },
  { to: WORLD, protocol: "tcp", port: 53, why: "DNS (long answers)" },
  { to: WORLD, protocol: "udp", port: 123, why: "NTP" },
  { to: WORLD, protocol: "tcp", port: ports.http, why: "Debian packages, the cloud's metadata" },
  { to: WORLD, protocol: "tcp", port: ports.https, why: "packages, Object Storage backups, ACME, external APIs" },
];

/** Roles that run the application on machines of their own. */
const APP_ROLES = ["backend", "api", "app"];

/** Whether the phase has phase 4's tiered VPC (public, backend, database and HSM subnets) and its seed's rules. */
export function tieredZeroTrust(topology: Topology): boolean {
  const sub = topology.network?.subnets;
  return !!(topology.network?.zeroTrust && sub?.public && sub.backend && sub.database && sub.hsm);
}

/** Whether the phase's machines are fenced by role (Public Cloud instances outside phase 4's tiered VPC). */
export function fencedByRole(topology: Topology): boolean {
  return !tieredZeroTrust(topology) && topology.fleets.some((f) => f.variant === "public-cloud");
}

/**
 * Every flow of the phase. `jumpRole` is the role whose first machine relays SSH to the others (probatio's in-place
 * deliveries and the migrations' tunnels go through it).
 */
export function phaseFlows(topology: Topology, settings: Pick<PhaseSettings, "acme" | "alertSmtp">, jumpRole?: string): Flow[] {
  const roles = topology.fleets.map((f) => f.role);
  const has = (role: string) => roles.includes(role);
  const flows: Flow[] = [];
  const add = (from: string, to: string, protocol: Flow["protocol"], port: number | undefined, why: string) =>
    flows.push({ from, to, protocol, port, why });
  const both = (a: string, b: string, port: number, why: string) => {
    add(a, b, "tcp", port, why);
    if (a !== b) add(b, a, "tcp", port, why);
  };

  for (const role of roles) {
    add(ALLOW_LIST, role, "tcp", ports.ssh, "SSH from the allow-list");
    if (jumpRole && role !== jumpRole) add(jumpRole, role, "tcp", ports.ssh, "SSH through the jump host (probatio's deliveries)");
    for (const e of BASE_EGRESS) flows.push({ ...e, from: role });
  }

  const lb = topology.loadBalancer;
  // The machines that run the application: the database's and the cache's clients.
  const appRoles = [...new Set(roles.filter((r) => r === lb?.backendRole || APP_ROLES.includes(r)))];
  if (lb?.kind === "haproxy") {
    add(WORLD, lb.role, "tcp", ports.http, "HTTP from the internet (ACME's HTTP-01, the redirect)");
    add(WORLD, lb.role, "tcp", ports.https, "HTTPS from the internet");
    add(lb.role, lb.backendRole, "tcp", lb.backendPort, "the application, behind HAProxy");
    if (topology.fleets.find((f) => f.role === lb.role)?.count === 2) {
      add(lb.role, lb.role, "vrrp", undefined, "VRRP between the pair (keepalived, IP protocol 112)");
      if (settings.acme) add(lb.role, lb.role, "tcp", DEFAULT_ACME.challengePort, "ACME challenges for the other node's certbot");
    }
  }

  // A phase with no load balancer: the machine that terminates TLS (HAProxy beside the backend) or runs Compose's Traefik.
  const entry = entryTerminatorRole(topology) ?? (topology.compose ? topology.postgres?.primaryRole : undefined);
  if (entry && has(entry)) {
    add(WORLD, entry, "tcp", ports.http, "HTTP from the internet (ACME's HTTP-01, the redirect)");
    add(WORLD, entry, "tcp", ports.https, "HTTPS from the internet");
  }

  const pg = topology.postgres;
  if (pg?.mode === "self-managed" && pg.primaryRole && has(pg.primaryRole)) {
    const db = pg.primaryRole;
    const pooler = has("pgbouncer") ? "pgbouncer" : undefined;
    for (const client of appRoles.filter((r) => r !== db)) {
      if (pooler) add(client, pooler, "tcp", pg.pgbouncer?.port ?? ports.pgbouncer, "the application's PostgreSQL, through pgBouncer");
      // Phase 1: pgBouncer beside PostgreSQL, on the database's machine.
      else if (pg.pgbouncer)
        add(client, db, "tcp", pg.pgbouncer.port ?? ports.pgbouncer, "the application's PostgreSQL, through pgBouncer");
      else add(client, db, "tcp", ports.postgres, "the application's PostgreSQL");
    }
    if (pooler) add(pooler, db, "tcp", ports.postgres, "pgBouncer to PostgreSQL");
    if (pg.standbys.length > 0) {
      both(db, db, ports.postgres, "replication");
      both(db, db, ports.patroni, "Patroni's REST API between members");
      both(db, db, ports.etcdClient, "etcd clients");
      both(db, db, ports.etcdPeer, "etcd members");
      if (pooler) {
        add(pooler, db, "tcp", ports.patroni, "HAProxy's leader checks (Patroni's REST API)");
        both(pooler, db, ports.etcdClient, "etcd clients (the witness is a member)");
        both(pooler, db, ports.etcdPeer, "etcd members (the witness)");
      }
    }
  }

  const redis = topology.redis;
  if (redis && has(redis.role)) {
    for (const client of appRoles) {
      add(client, redis.role, "tcp", ports.redis, "the application's Redis");
      if (redis.sentinel) add(client, redis.role, "tcp", ports.sentinel, "the application asks Sentinel for the master");
    }
    if (redis.sentinel) {
      both(redis.role, redis.role, ports.redis, "Redis replication");
      both(redis.role, redis.role, ports.sentinel, "Sentinel gossip");
    }
  }

  if (topology.k8s?.kind === "k3s") {
    const servers = "k3s-server";
    const nodes = roles.filter((r) => r.startsWith("k3s-"));
    for (const a of nodes) {
      add(a, servers, "tcp", ports.kubernetesApi, "the nodes' supervisor and the API server");
      for (const b of nodes) {
        add(a, b, "udp", ports.flannelVxlan, "flannel's VXLAN (pod to pod)");
        add(a, b, "tcp", ports.kubelet, "kubelet (logs, exec, metrics)");
      }
    }
    if (has(servers)) {
      both(servers, servers, ports.etcdClient, "embedded etcd clients");
      both(servers, servers, ports.etcdPeer, "embedded etcd members");
      add(ALLOW_LIST, servers, "tcp", ports.kubernetesApi, "kubectl from the allow-list");
    }
    const entry = topology.loadBalancer;
    if (entry?.kind === "managed" && topology.network) {
      // OVH's load balancer reaches its members from the nodes' subnet.
      const subnet = Object.values(topology.network.subnets)[0];
      add(subnet, entry.backendRole, "tcp", ports.http, "HTTP from the managed load balancer");
      add(subnet, entry.backendRole, "tcp", entry.backendPort, "HTTPS from the managed load balancer");
    } else {
      // No load balancer: every node's Traefik (K3s's service load balancer) is an entry address.
      for (const n of nodes) {
        add(WORLD, n, "tcp", ports.http, "HTTP from the internet (Traefik: ACME's HTTP-01, the redirect)");
        add(WORLD, n, "tcp", ports.https, "HTTPS from the internet (Traefik)");
      }
    }
  }

  if (topology.monitoring && has("monitoring")) {
    for (const role of roles)
      if (role !== "monitoring") add("monitoring", role, "tcp", ports.nodeExporter, "Prometheus scrapes the node exporter");
    const relayPort = settings.alertSmtp ? Number(settings.alertSmtp.relay.split(":").pop()) : undefined;
    if (relayPort) add("monitoring", WORLD, "tcp", relayPort, "alert mail to the operator's SMTP relay");
  }
  return flows;
}
