import { stringify } from "yaml";
import { ServiceBundle } from "./bundle";

/** KoproGo phases 1-2: Docker Compose with Traefik, PostgreSQL 15 and the backend on one VPS. Pure. */
export interface ComposeSettings {
  readonly domain: string;
  readonly acmeEmail: string;
  readonly backendImage: string;
  readonly backendPort: number;
  /** Backend memory limit (KoproGo phase 2: 500M). */
  readonly backendMemoryLimit?: string;
  readonly postgres: {
    readonly version: number;
    readonly maxConnections: number;
    readonly sharedBuffers?: string;
    readonly password: string;
  };
  /** Expose Traefik's Prometheus metrics (KoproGo phase 2). */
  readonly traefikMetrics: boolean;
}

/** Where the Compose file lives on the machine, and the project's name (its containers, volumes and network). */
export const COMPOSE_FILE = "/opt/koprogo/docker-compose.yml";
export const COMPOSE_PROJECT = "koprogo";

export function renderComposeFile(s: ComposeSettings): string {
  // Logical replication from the first boot (a later change needs a restart): a migration moves the data with it.
  const pgArgs = ["postgres", "-c", `max_connections=${s.postgres.maxConnections}`, "-c", "wal_level=logical"];
  pgArgs.push("-c", "max_wal_senders=10", "-c", "max_replication_slots=10");
  if (s.postgres.sharedBuffers) pgArgs.push("-c", `shared_buffers=${s.postgres.sharedBuffers}`);
  const traefikArgs = [
    "--providers.docker=true",
    "--providers.docker.exposedbydefault=false",
    "--entrypoints.web.address=:80",
    "--entrypoints.websecure.address=:443",
    "--entrypoints.web.http.redirections.entrypoint.to=websecure",
    "--certificatesresolvers.le.acme.tlschallenge=true",
    `--certificatesresolvers.le.acme.email=${s.acmeEmail}`,
    "--certificatesresolvers.le.acme.storage=/letsencrypt/acme.json",
  ];
  if (s.traefikMetrics)
    traefikArgs.push(
      "--metrics.prometheus=true",
      "--entrypoints.metrics.address=127.0.0.1:8082",
      "--metrics.prometheus.entrypoint=metrics",
    );
  const backend: Record<string, unknown> = {
    image: s.backendImage,
    restart: "unless-stopped",
    depends_on: { postgres: { condition: "service_healthy" } },
    env_file: ["/etc/probatio/backend.env"],
    labels: [
      "traefik.enable=true",
      `traefik.http.routers.api.rule=Host(\`${s.domain}\`)`,
      "traefik.http.routers.api.entrypoints=websecure",
      "traefik.http.routers.api.tls.certresolver=le",
      `traefik.http.services.api.loadbalancer.server.port=${s.backendPort}`,
    ],
  };
  // mem_limit, not deploy.resources: Debian 12's docker-compose 1.29 ignores `deploy` outside swarm (without
  // --compatibility), so the seed's limit would silently not apply; Compose v2 honours both.
  if (s.backendMemoryLimit) backend.mem_limit = s.backendMemoryLimit;
  // No top-level `name` (1.29 refuses it): the project is named on the command line (-p).
  return stringify({
    services: {
      traefik: {
        image: "traefik:v3.1",
        restart: "unless-stopped",
        command: traefikArgs,
        ports: ["80:80", "443:443"],
        volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro", "letsencrypt:/letsencrypt"],
      },
      postgres: {
        image: `postgres:${s.postgres.version}`,
        restart: "unless-stopped",
        command: pgArgs,
        environment: { POSTGRES_USER: "koprogo", POSTGRES_DB: "koprogo_db", POSTGRES_PASSWORD_FILE: "/run/secrets/db_password" },
        secrets: ["db_password"],
        volumes: ["pgdata:/var/lib/postgresql/data"],
        // The VPS's loopback only: the operator (and a migration's data step) reaches it through an SSH tunnel.
        ports: ["127.0.0.1:5432:5432"],
        healthcheck: { test: ["CMD-SHELL", "pg_isready -U koprogo -d koprogo_db"], interval: "5s", timeout: "3s", retries: 10 },
      },
      backend,
    },
    secrets: { db_password: { file: "/etc/probatio/db_password" } },
    volumes: { pgdata: {}, letsencrypt: {} },
  });
}

export function composeBundle(s: ComposeSettings): ServiceBundle {
  return {
    // Debian 12's Docker (20.10) and Compose (1.29, the `docker-compose` command: Debian has no `docker compose` plugin).
    packages: ["docker.io", "docker-compose"],
    files: [
      { path: COMPOSE_FILE, content: renderComposeFile(s) },
      { path: "/etc/probatio/db_password", content: s.postgres.password, permissions: "0600" },
      {
        path: "/etc/probatio/backend.env",
        permissions: "0600",
        content: `DATABASE_URL=postgres://koprogo:${encodeURIComponent(s.postgres.password)}@postgres:5432/koprogo_db\nPORT=${s.backendPort}\n`,
      },
    ],
    commands: ["systemctl enable --now docker", `docker-compose -p ${COMPOSE_PROJECT} -f ${COMPOSE_FILE} up -d`],
    services: ["docker"],
  };
}
