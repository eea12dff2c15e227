/** What runs on a K3s node: the K3s installer with the join settings, and the manifests the first server deploys. Pure. */
import { stringify } from "yaml";
import { ServiceBundle } from "./bundle";
import { K8sObject } from "./k8sWorkload";
import { ports } from "../../lib/defaults";

export interface K3sNodeSettings {
  readonly kind: "server" | "agent";
  readonly token: string;
  /** Address of the first server (joins); undefined for the first server itself. */
  readonly firstServer?: string;
  readonly ha: boolean;
  /** Manifests the first server auto-deploys. */
  readonly manifests?: readonly K8sObject[];
}

/** K3s on a machine: first server (cluster-init when HA), joining servers, agents. Pure. */
export function k3sNodeBundle(s: K3sNodeSettings): ServiceBundle {
  const env = [`K3S_TOKEN='${s.token}'`];
  let exec: string;
  if (s.kind === "server") {
    exec = s.firstServer ? `server --server https://${s.firstServer}:${ports.kubernetesApi}` : s.ha ? "server --cluster-init" : "server";
    exec += " --secrets-encryption --write-kubeconfig-mode 0600";
  } else {
    exec = "agent";
    env.push(`K3S_URL='https://${s.firstServer}:${ports.kubernetesApi}'`);
  }
  const files =
    (s.manifests ?? []).length > 0
      ? [
          {
            path: "/var/lib/rancher/k3s/server/manifests/probatio.yaml",
            permissions: "0600",
            content: s.manifests!.map((m) => stringify(m)).join("---\n"),
          },
        ]
      : [];
  return {
    packages: ["curl"],
    files: [...files, { path: "/etc/probatio/k3s.env", permissions: "0600", content: env.join("\n") + "\n" }],
    commands: [`set -a; . /etc/probatio/k3s.env; set +a; curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='${exec}' sh -`],
    services: [s.kind === "server" ? "k3s" : "k3s-agent"],
  };
}
