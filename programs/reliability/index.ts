/**
 * Availability figures of the parts a request goes through, each with its source, and the failover times
 * probatio measured. The availability model (offline/availability.ts) reads these and nothing else.
 * The providers' figures are their contractual SLAs as read by hand on their product pages (not measured here):
 * an SLA is a floor the provider compensates below, not a forecast, so the model is a conservative estimate.
 */

export interface Figure {
  /** Monthly availability, percent. */
  readonly percent: number;
  readonly source: string;
}

export const AVAILABILITY: Readonly<Record<string, Figure>> = {
  "ovh-vps": { percent: 99.9, source: "hand: OVH VPS SLA (ovhcloud.com/fr/vps, 2025 range), not a measurement" },
  "public-cloud": { percent: 99.99, source: "hand: OVH Public Cloud instances SLA (ovhcloud.com/fr/public-cloud), not a measurement" },
  "managed-lb": { percent: 99.99, source: "hand: OVH Public Cloud Load Balancer SLA, not a measurement" },
  "managed-postgresql-enterprise": { percent: 99.99, source: "hand: OVH Cloud Databases, 3-node plan SLA, not a measurement" },
  "ovh-mks-node": { percent: 99.99, source: "hand: an MKS worker node is a Public Cloud instance (its SLA)" },
  okms: { percent: 99.9, source: "hand: OVHcloud KMS SLA, not a measurement" },
  "object-storage": { percent: 99.9, source: "hand: OVH Object Storage (Standard) SLA, not a measurement" },
};

/** Time a repair takes when a lone machine fails (a rebuild from the configuration, or the provider's restore). */
export const MEAN_TIME_TO_REPAIR_HOURS = {
  value: 4,
  source: "hand: assumption (a machine rebuilt by probatio up, or the provider's own restore)",
} as const;

/** How long the service is down while an HA tier moves to another node, seconds. */
export const FAILOVER_SECONDS: Readonly<Record<string, { readonly seconds: number; readonly source: string }>> = {
  patroni: { seconds: 24, source: "measured: boot suites, crash -> first accepted write 22-24 s (ttl 20 s)" },
  sentinel: { seconds: 2.8, source: "measured: npm run bench:failover, 2.73-2.80 s (down-after 1500 ms)" },
  vrrp: { seconds: 3, source: "measured: phase 3 boot suite, VRRP master crash (advert 1 s, 3 missed)" },
  haproxy: { seconds: 2.6, source: "measured: npm run bench:failover, a backend marked DOWN after 2.6 s, 0 failed requests (retries)" },
  managed: { seconds: 30, source: "seed: ProbatioVault phase 4 'auto-failover < 30 secondes'" },
  k3s: { seconds: 40, source: "hand: Kubernetes marks a node NotReady after 40 s (node-monitor-grace-period)" },
};
