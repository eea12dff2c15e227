/** Shorthands for the roadmaps' fleets: sizes, classic VPS and Public Cloud instances. */
import { FleetSpec, MachineSize } from "./types";

/** Classic OVH VPS (ProbatioVault 0-1). */
export const vps = (vcpu: number, ramGb: number, diskGb: number): MachineSize => ({ vcpu, ramGb, diskGb });
export const VPS_2GB = vps(1, 2, 40);
export const VPS_4GB = vps(2, 4, 80);
export const VPS_8GB = vps(4, 8, 160);
export const VPS_12GB = vps(6, 12, 200);

export function fleet(role: string, count: number, size: MachineSize, offer: string, monthlyEur: number, services: string[]): FleetSpec {
  return { role, count, size, variant: "ovh-vps", offer, services, monthlyEur };
}

/** Phases 2-3 run on Public Cloud instances (VPS-sized "d2" flavours) so they can share a private network. */
export function cloud(role: string, count: number, size: MachineSize, offer: string, monthlyEur: number, services: string[]): FleetSpec {
  return { role, count, size, variant: "public-cloud", offer, services, monthlyEur };
}
