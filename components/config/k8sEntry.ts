/**
 * The public entry of a Kubernetes phase: an ingress controller terminates TLS and forwards to the backend's
 * Service. The controller is Traefik (K3s's own in kube-system; on OVH Managed Kubernetes Traefik's chart, behind a
 * Service of type LoadBalancer, which OVH backs with its managed load balancer). Its certificate comes by ACME
 * through cert-manager (HTTP-01 through the same ingress) with the stack's `acmeEmail`; without it, Traefik's
 * default self-signed certificate. cert-manager keeps the certificate in a Secret every Traefik replica reads: one
 * issuer, however many replicas. Pure.
 */
import { DEFAULT_ACME } from "../../lib/defaults";
import type { K8sObject } from "./k8sWorkload";

/** The charts the entry needs, pinned (their repositories are the vendors'). */
export const ENTRY_CHARTS = {
  certManager: { repo: "https://charts.jetstack.io", chart: "cert-manager", version: "v1.16.2", namespace: "cert-manager" },
  traefik: { repo: "https://traefik.github.io/charts", chart: "traefik", version: "33.2.1", namespace: "traefik" },
} as const;

/** Where the ingress controller runs and the class its Ingresses name. */
export type IngressController =
  /** K3s's bundled Traefik (klipper's service load balancer on every node's 80 and 443). */
  | { readonly kind: "k3s-traefik" }
  /** Traefik's chart, exposed by a Service of type LoadBalancer of the given OVH flavor. */
  | { readonly kind: "traefik-chart"; readonly loadBalancerFlavor: string };

export const INGRESS_CLASS = "traefik";
export const ACME_ISSUER = "probatio-acme";
/** The port cert-manager's HTTP-01 solver pods listen on. */
export const ACME_SOLVER_PORT = 8089;

export function controllerNamespace(kind: IngressController["kind"]): string {
  switch (kind) {
    case "k3s-traefik":
      return "kube-system";
    case "traefik-chart":
      return ENTRY_CHARTS.traefik.namespace;
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown ingress controller ${JSON.stringify(unreachable)}`);
    }
  }
}

export interface EntrySettings {
  readonly namespace: string;
  readonly app: string;
  /** The backend Service's port. */
  readonly servicePort: number;
  readonly controller: IngressController;
  /** The public name; without it the Ingress answers every name (with the default certificate). */
  readonly domain?: string;
  readonly acme?: { readonly email: string; readonly directory?: string };
}

/** A chart to install: as a HelmChart object on K3s, as a Helm release on OVH Managed Kubernetes. */
export interface ChartRelease {
  readonly name: string;
  readonly repo: string;
  readonly chart: string;
  /** Pinned where probatio chose the chart; the roadmap's own releases follow their repository's latest. */
  readonly version?: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}

/** The charts the entry installs: cert-manager (with ACME), Traefik (where the cluster has none of its own). */
export function entryCharts(s: EntrySettings): ChartRelease[] {
  const charts: ChartRelease[] = [];
  if (s.acme && s.domain) charts.push({ name: "cert-manager", ...ENTRY_CHARTS.certManager, values: { crds: { enabled: true } } });
  if (s.controller.kind === "traefik-chart") {
    charts.push({
      name: "traefik",
      ...ENTRY_CHARTS.traefik,
      values: {
        // Two replicas spread over the nodes (the phase's 99.99 %); our own Service below carries the address.
        deployment: { replicas: 2 },
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        service: { enabled: false },
        ingressClass: { enabled: true, isDefaultClass: false, name: INGRESS_CLASS },
        providers: { kubernetesIngress: { enabled: true }, kubernetesCRD: { enabled: false } },
      },
    });
  }
  return charts;
}

/** The entry's objects: the Ingress, the ACME issuer and what its solver needs, and (chart) the load-balanced Service. */
export function entryObjects(s: EntrySettings): K8sObject[] {
  const acme = s.acme && s.domain ? s.acme : undefined;
  const backend = { service: { name: s.app, port: { number: s.servicePort } } };
  const objects: K8sObject[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        name: s.app,
        namespace: s.namespace,
        annotations: acme ? { "cert-manager.io/cluster-issuer": ACME_ISSUER } : undefined,
      },
      spec: {
        ingressClassName: INGRESS_CLASS,
        // The certificate cert-manager keeps in this Secret; without ACME, Traefik's default one.
        tls: acme ? [{ hosts: [s.domain!], secretName: `${s.app}-tls` }] : undefined,
        rules: [
          s.domain
            ? { host: s.domain, http: { paths: [{ path: "/", pathType: "Prefix", backend }] } }
            : { http: { paths: [{ path: "/", pathType: "Prefix", backend }] } },
        ],
      },
    },
  ];
  if (acme) {
    objects.push(
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: ACME_ISSUER },
        spec: {
          acme: {
            email: acme.email,
            server: acme.directory ?? DEFAULT_ACME.directory,
            privateKeySecretRef: { name: `${ACME_ISSUER}-account` },
            solvers: [{ http01: { ingress: { ingressClassName: INGRESS_CLASS } } }],
          },
        },
      },
      {
        // The namespace denies all ingress by default: the HTTP-01 solver pods cert-manager starts there must be
        // reachable from the ingress controller, on their port only.
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "acme-http01-solver", namespace: s.namespace },
        spec: {
          podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": controllerNamespace(s.controller.kind) } } }],
              ports: [{ protocol: "TCP", port: ACME_SOLVER_PORT }],
            },
          ],
        },
      },
    );
  }
  if (s.controller.kind === "traefik-chart") {
    objects.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "traefik",
        namespace: ENTRY_CHARTS.traefik.namespace,
        annotations: { "loadbalancer.ovhcloud.com/flavor": s.controller.loadBalancerFlavor },
      },
      spec: {
        type: "LoadBalancer",
        // Keeps the clients' addresses (the application's audit trail) and skips a second hop between nodes.
        externalTrafficPolicy: "Local",
        selector: { "app.kubernetes.io/name": "traefik" },
        ports: [
          { name: "web", port: 80, targetPort: "web" },
          { name: "websecure", port: 443, targetPort: "websecure" },
        ],
      },
    });
  }
  return objects;
}
