/**
 * TLS on the entry machine of a phase with no load balancer, Compose or Kubernetes (ProbatioVault 0-1, and any
 * environment of a phase shaped like them): HAProxy from Debian on the machine that runs the backend terminates 443
 * and forwards to the backend on the machine's loopback, as phase 2's load balancer forwards to the backends' port
 * 3000, so the public name serves the same thing before and after the 1-to-2 move. Port 80 redirects to 443 and
 * serves ACME's challenge. Its certificate comes by ACME with the stack's `acmeEmail` (certbot, as on the load
 * balancers), else it is the self-signed one made at first boot.
 */
import { ServiceBundle } from "../../components/config/bundle";
import { haproxyNodeBundle } from "../../components/config/haproxyNode";
import { DEFAULT_HEALTH_CHECK, DEFAULT_HEALTH_PATH, ports } from "../../lib/defaults";
import { Topology } from "../roadmaps";
import { PhaseSettings } from "../settings";
import { PhaseContext } from "./context";
import { maxConnections } from "./loadBalancer";

/** The role whose first machine terminates TLS for a phase without a load balancer (undefined where another does). */
export function entryTerminatorRole(t: Topology): string | undefined {
  if (t.loadBalancer || t.compose || t.k8s) return undefined;
  return t.fleets.find((f) => f.services.includes("backend"))?.role;
}

/** HAProxy serves the phase's 443: on its load balancers, or on the entry machine of a phase without one. */
export function haproxyServesEntry(t: Topology): boolean {
  return t.loadBalancer?.kind === "haproxy" || entryTerminatorRole(t) !== undefined;
}

/** What the terminating machine runs besides its backend: HAProxy (and certbot with `acmeEmail`). Pure. */
export function entryTerminatorBundle(ctx: PhaseContext): ServiceBundle {
  return haproxyNodeBundle({
    index: 0,
    backends: [{ name: "backend1", address: "127.0.0.1", port: ports.backend }],
    healthPath: DEFAULT_HEALTH_PATH,
    healthCheck: DEFAULT_HEALTH_CHECK,
    maxConnections: maxConnections(ctx),
    // The stats page stays on the loopback: these machines' only interface is public.
    statsAddress: "127.0.0.1",
    domain: ctx.settings.domain,
    acme: ctx.settings.acme,
  });
}

/**
 * The ACME account of Traefik's entries (Compose, Kubernetes), which always get their certificate by ACME once the
 * stack has a domain: the stack's `acmeEmail`, else its alert address, else admin@ the domain.
 */
export function traefikAcme(s: PhaseSettings): { readonly email: string; readonly directory?: string } | undefined {
  if (!s.domain) return undefined;
  return { email: s.acme?.email ?? s.alertEmail ?? `admin@${s.domain}`, directory: s.acme?.directory };
}
