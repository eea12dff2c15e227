/**
 * The Kubernetes objects probatio declares, against Kubernetes' own schemas: kubectl-validate (built from the Go
 * module proxy by scripts/build-kubectl-validate.sh, its schemas offline) over ProbatioVault 4's objects (created
 * through the Kubernetes provider on OVH Managed Kubernetes) and KoproGo 3-4's (the K3s server's manifests). A field
 * the schema does not know (a typo) or a value of the wrong type fails here; kubectl-validate 0.0.4 checks the schemas
 * only, not the API server's own validation (enumerations, port ranges). Custom resources (cert-manager's
 * ClusterIssuer, K3s's HelmChart) have no schema without their CRDs: listed, not validated.
 */
import { execFile } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parse, stringify } from "yaml";
import { planPhase, planSettings } from "../../offline/plan";
import { runUnderMocks } from "../../offline/mockRun";
import { buildPhase } from "../../programs/phase";
import { cloudInitFiles } from "../helpers";
import { repoRoot } from "../engine/harness";

jest.setTimeout(300_000);

const KUBERNETES_VERSION = "1.29";
const CUSTOM_KINDS = new Set(["HelmChart", "ClusterIssuer"]);

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

let validator = "";
let dir = "";
beforeAll(async () => {
  validator = (await run("bash", [join(repoRoot, "scripts", "build-kubectl-validate.sh")])).stdout.trim().split("\n").pop()!;
  dir = mkdtempSync(join(tmpdir(), "probatio-k8s-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Validates the objects, one file each; returns kubectl-validate's answer. */
async function validate(name: string, objects: K8sObject[]): Promise<{ code: number; output: string }> {
  const sub = join(dir, name);
  rmSync(sub, { recursive: true, force: true });
  mkdirSync(sub);
  objects.forEach((o, i) => writeFileSync(join(sub, `${i}-${o.kind}-${o.metadata.name}.yaml`), stringify(o)));
  const r = await run(validator, ["--version", KUBERNETES_VERSION, sub]);
  return { code: r.code, output: r.stdout + r.stderr };
}

async function probatio4(): Promise<K8sObject[]> {
  const p = await planPhase({ roadmap: "probatio", phase: 4, stack: "prod" });
  return p.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh") && r.type !== "pulumi:providers:kubernetes")
    .map((r) => {
      const { apiVersion, kind, metadata, spec } = r.inputs as K8sObject & { spec?: unknown };
      return { apiVersion, kind, metadata, spec } as K8sObject;
    });
}

async function k3sManifests(phase: number): Promise<K8sObject[]> {
  const r = await runUnderMocks(() => buildPhase(planSettings({ roadmap: "koprogo", phase, stack: "prod" })) as never, {
    project: "probatio",
    stack: "prod",
    revealSecrets: true,
  });
  const files = cloudInitFiles((r.componentOutputs["k8s-servers"].userData as string[])[0]);
  return files["/var/lib/rancher/k3s/server/manifests/probatio.yaml"].split("---\n").map((d) => parse(d) as K8sObject);
}

const kinds = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

describe("the Kubernetes objects against Kubernetes' schemas (kubectl-validate)", () => {
  test("ProbatioVault 4: the workload and its entry (Ingress, the backend's and Traefik's Services, NetworkPolicies, HPA, PDB) are valid", async () => {
    const objects = await probatio4();
    const builtIn = objects.filter((o) => !CUSTOM_KINDS.has(o.kind));
    expect(kinds(builtIn)).toEqual(
      expect.arrayContaining([
        "Ingress/backend",
        "Service/backend",
        "Service/traefik",
        "Deployment/backend",
        "HorizontalPodAutoscaler/backend",
      ]),
    );
    const r = await validate("probatio-4", builtIn);
    expect({ code: r.code, output: r.code === 0 ? "" : r.output }).toEqual({ code: 0, output: "" });
    expect(kinds(objects.filter((o) => CUSTOM_KINDS.has(o.kind)))).toEqual(["ClusterIssuer/probatio-acme"]);
  });

  test.each([3, 4])("KoproGo %i: the K3s server's manifests are valid", async (phase) => {
    const objects = await k3sManifests(phase);
    const builtIn = objects.filter((o) => !CUSTOM_KINDS.has(o.kind));
    expect(kinds(builtIn)).toEqual(expect.arrayContaining(["Ingress/backend", "NetworkPolicy/default-deny-all"]));
    const r = await validate(`koprogo-${phase}`, builtIn);
    expect({ code: r.code, output: r.code === 0 ? "" : r.output }).toEqual({ code: 0, output: "" });
  });

  test("the check can fail: a misspelt field of the Ingress and a Service port that is not a number are refused", async () => {
    const objects = await probatio4();
    const ingress = structuredClone(objects.find((o) => o.kind === "Ingress")!) as K8sObject & { spec: any };
    ingress.spec.ingresClassName = ingress.spec.ingressClassName;
    delete ingress.spec.ingressClassName;
    const service = structuredClone(objects.find((o) => o.kind === "Service")!) as K8sObject & { spec: any };
    service.spec.ports[0].port = "http";
    const r = await validate("broken", [ingress, service]);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("spec.ingresClassName: Invalid value: value provided for unknown field");
    expect(r.output).toContain("spec.ports[0].port in body must be of type integer");
  });
});
