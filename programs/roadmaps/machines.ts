/** Shorthands for the roadmaps' fleets: sizes, classic VPS and Public Cloud instances. */
import { FleetSpec, MachineSize } from "./types";

/** Machine sizes. */
export const size = (vcpu: number, ramGb: number, diskGb: number): MachineSize => ({ vcpu, ramGb, diskGb });

/**
 * Classic OVH VPS of the 2025 range (ProbatioVault 0-1): VPS-1 is its smallest plan, so the seed's 2-4 GB machines
 * get VPS-1's 8 GB (and cost less than the 2023 range's 2-4 GB plans did).
 */
export const VPS_1 = { offer: "vps-2025-model1", size: size(4, 8, 75) } as const;
export const VPS_2 = { offer: "vps-2025-model2", size: size(6, 12, 100) } as const;

/** Public Cloud sizes of the VPS-like phases (2-3). */
export const D2_2 = size(1, 2, 25);
export const D2_4 = size(2, 4, 50);
export const D2_8 = size(4, 8, 50);

export function fleet(role: string, count: number, size: MachineSize, offer: string, services: string[]): FleetSpec {
  return { role, count, size, variant: "ovh-vps", offer, services };
}

/** Phases 2-3 run on Public Cloud instances (VPS-sized "d2" flavours) so they can share a private network. */
export function cloud(role: string, count: number, size: MachineSize, offer: string, services: string[]): FleetSpec {
  return { role, count, size, variant: "public-cloud", offer, services };
}
