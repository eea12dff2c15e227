import { hostAddress } from "../components/cidr";

/**
 * Fixed private addresses by role, so that configs rendered before boot (replication, Sentinel, VRRP peers,
 * Prometheus targets) can name their peers. Host numbers inside the role's subnet.
 */
export const hostNumbers: Readonly<Record<string, number>> = {
  allinone: 5,
  app: 5,
  "lb-vip": 10,
  lb: 11,
  cache: 20,
  database: 30,
  "database-standby": 31,
  pgbouncer: 35,
  monitoring: 40,
  "ci-runner": 50,
  "k3s-server": 60,
  "k3s-agent": 70,
  backend: 100,
  api: 130,
};

export function roleAddresses(subnetCidr: string, role: string, count: number): string[] {
  const base = hostNumbers[role];
  if (base === undefined) throw new Error(`no address plan for role '${role}'`);
  return Array.from({ length: count }, (_, i) => hostAddress(subnetCidr, base + i));
}
