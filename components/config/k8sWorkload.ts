/**
 * The Kubernetes objects of the backend: namespace, Deployment (probes, limits), Service (inside the cluster: the
 * ingress controller of k8sEntry.ts is its only client), HPA, PDB and default-deny NetworkPolicies with explicit
 * allows. Plain objects: created through the Kubernetes provider on OVH Managed Kubernetes, or written as
 * auto-deployed manifests on K3s. Pure.
 */
import type { Input } from "@pulumi/pulumi";
import type { ChartRelease } from "./k8sEntry";

/** The backend Service's port (plain HTTP inside the cluster; TLS ends at the ingress controller). */
export const BACKEND_SERVICE_PORT = 80;

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: unknown;
};

export interface WorkloadSettings {
  readonly namespace: string;
  readonly app: string;
  readonly image: string;
  readonly port: number;
  readonly replicas: number;
  readonly hpa?: { readonly minPods: number; readonly maxPods: number; readonly cpuTargetPercent: number };
  readonly resources: {
    readonly cpuRequest: string;
    readonly memoryRequest: string;
    readonly cpuLimit: string;
    readonly memoryLimit: string;
  };
  /** Where traffic may come from and go to. */
  readonly allow: {
    /** The ingress controller's namespace: the only client of the backend's pods. */
    readonly ingressNamespace: string;
    /** Where the pods may connect: an address range, or the pods of a namespace (a data service in the cluster). */
    readonly egress: readonly EgressAllow[];
  };
}

export type EgressAllow = ({ readonly cidr: string } | { readonly namespace: string }) & {
  /**
   * The destination port: an output where the cloud chooses it (OVH's managed PostgreSQL listens on a port of its
   * own, known once the service exists); a number where the objects are written out as files (K3s's manifests).
   */
  readonly port: Input<number>;
  readonly description: string;
};

function egressPeer(e: EgressAllow): Record<string, unknown> {
  return "cidr" in e
    ? { ipBlock: { cidr: e.cidr } }
    : { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": e.namespace } } };
}

export function workloadObjects(s: WorkloadSettings): K8sObject[] {
  const labels = { app: s.app };
  const ns = s.namespace;
  const objects: K8sObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "probatio.io/managed": "true" } } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: s.app, namespace: ns, labels },
      spec: {
        replicas: s.replicas,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels },
          spec: {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: s.app,
                image: s.image,
                ports: [{ name: "http", containerPort: s.port }],
                readinessProbe: { httpGet: { path: "/health/ready", port: s.port }, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: {
                  httpGet: { path: "/health", port: s.port },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                resources: {
                  requests: { cpu: s.resources.cpuRequest, memory: s.resources.memoryRequest },
                  limits: { cpu: s.resources.cpuLimit, memory: s.resources.memoryLimit },
                },
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: s.app, namespace: ns },
      spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: BACKEND_SERVICE_PORT, targetPort: s.port }] },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: s.app, namespace: ns },
      spec: { minAvailable: Math.max(1, (s.hpa?.minPods ?? s.replicas) - 1), selector: { matchLabels: labels } },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-all", namespace: ns },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${s.app}-ingress`, namespace: ns },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.allow.ingressNamespace } } }],
            ports: [{ protocol: "TCP", port: s.port }],
          },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${s.app}-egress`, namespace: ns },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          ...s.allow.egress.map((e) => ({ to: [egressPeer(e)], ports: [{ protocol: "TCP", port: e.port }] })),
        ],
      },
    },
  ];
  if (s.hpa) {
    objects.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: s.app, namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.app },
        minReplicas: s.hpa.minPods,
        maxReplicas: s.hpa.maxPods,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.hpa.cpuTargetPercent } } },
        ],
      },
    });
  }
  return objects;
}

/** Helm charts K3s installs by itself (HelmChart objects of its built-in Helm controller). */
export const helmCharts: Readonly<Record<string, { repo: string; chart: string; namespace: string }>> = {
  "postgresql-ha": { repo: "https://charts.bitnami.com/bitnami", chart: "postgresql-ha", namespace: "database" },
  dragonfly: { repo: "oci://ghcr.io/dragonflydb/dragonfly/helm", chart: "dragonfly", namespace: "cache" },
  "kube-prometheus-stack": {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    namespace: "monitoring",
  },
  longhorn: { repo: "https://charts.longhorn.io", chart: "longhorn", namespace: "longhorn-system" },
  kepler: { repo: "https://sustainable-computing-io.github.io/kepler-helm-chart", chart: "kepler", namespace: "kepler" },
  loki: { repo: "https://grafana.github.io/helm-charts", chart: "loki", namespace: "monitoring" },
};

/** The roadmap's named releases as charts to install. */
export function roadmapCharts(releases: readonly string[]): ChartRelease[] {
  return releases.map((r) => {
    const c = helmCharts[r];
    if (!c) throw new Error(`no Helm chart known for release '${r}'`);
    return { name: r, ...c, values: {} };
  });
}

/** Charts as K3s installs them by itself: HelmChart objects of its built-in Helm controller. */
export function helmChartObjects(charts: readonly ChartRelease[]): K8sObject[] {
  return charts.map((c) => ({
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChart",
    metadata: { name: c.name, namespace: "kube-system" },
    spec: {
      repo: c.repo.startsWith("oci://") ? undefined : c.repo,
      chart: c.repo.startsWith("oci://") ? `${c.repo}/${c.chart}` : c.chart,
      version: c.version,
      targetNamespace: c.namespace,
      createNamespace: true,
      valuesContent: Object.keys(c.values).length > 0 ? JSON.stringify(c.values) : undefined,
    },
  }));
}
