import { stringify } from "yaml";
import { ServiceBundle } from "./bundle";
import { migrationHbaLine } from "./postgres";

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
  /**
   * While a side-by-side migration moves this database to the next phase: the addresses the next phase's database
   * connects from (its subscription). PostgreSQL is then published on the VPS's addresses, and its pg_hba lets the
   * migration's role in from these addresses only, over TLS. Default none: PostgreSQL on the VPS's loopback only.
   */
  readonly migrationPeers?: readonly string[];
}

/** Where the rendered pg_hba.conf and the server's TLS key pair live on the VPS (mounted read-only). */
export const COMPOSE_PG_HBA = "/etc/probatio/pg_hba.conf";
export const COMPOSE_PG_TLS_DIR = "/etc/probatio/pg-tls";
/** The uid PostgreSQL runs as in the official image (Debian based): its key must be that user's, mode 0600. */
const IMAGE_POSTGRES_UID = 999;

/**
 * pg_hba.conf of the Compose PostgreSQL: the container's own socket (the health check), the Compose network (the
 * backend; the operator's SSH tunnel arrives through Docker's proxy from the network's gateway), and during a
 * migration the migration's role from the target's addresses, TLS only. Everything else is rejected.
 */
export function renderComposePgHba(migrationPeers: readonly string[] = []): string {
  const lines = [
    "# Rendered by probatio: the Compose network, and a migration's target while one runs.",
    "# TYPE  DATABASE        USER            ADDRESS                 METHOD",
    "local   all             all                                     trust",
    "host    all             all             samenet                 scram-sha-256",
  ];
  // TLS whatever the peer: the VPS is on the internet.
  for (const peer of migrationPeers) lines.push(migrationHbaLine("koprogo_db", peer, true));
  lines.push("host    all             all             0.0.0.0/0               reject");
  lines.push("host    all             all             ::/0                    reject");
  return lines.join("\n") + "\n";
}

/** The PostgreSQL server's arguments in the Compose file (also what the STAND-IN of the tests runs with). */
export function composePostgresArgs(s: ComposeSettings["postgres"]): string[] {
  // Logical replication from the first boot (a later change needs a restart): a migration moves the data with it.
  const args = ["postgres", "-c", `max_connections=${s.maxConnections}`, "-c", "wal_level=logical"];
  args.push("-c", "max_wal_senders=10", "-c", "max_replication_slots=10");
  if (s.sharedBuffers) args.push("-c", `shared_buffers=${s.sharedBuffers}`);
  // TLS for a migration's subscription from the next phase (the key pair is made on the VPS at first boot).
  args.push("-c", `hba_file=${COMPOSE_PG_HBA}`, "-c", "ssl=on");
  args.push("-c", `ssl_cert_file=${COMPOSE_PG_TLS_DIR}/server.crt`, "-c", `ssl_key_file=${COMPOSE_PG_TLS_DIR}/server.key`);
  return args;
}

/** Where the Compose file lives on the machine, and the project's name (its containers, volumes and network). */
export const COMPOSE_FILE = "/opt/koprogo/docker-compose.yml";
export const COMPOSE_PROJECT = "koprogo";

export function renderComposeFile(s: ComposeSettings): string {
  const pgArgs = composePostgresArgs(s.postgres);
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
        volumes: [
          "pgdata:/var/lib/postgresql/data",
          `${COMPOSE_PG_HBA}:${COMPOSE_PG_HBA}:ro`,
          `${COMPOSE_PG_TLS_DIR}:${COMPOSE_PG_TLS_DIR}:ro`,
        ],
        // The VPS's loopback only: the operator (and a migration's CLI) reaches it through an SSH tunnel. While a
        // migration runs, the next phase's database subscribes from its own addresses: published on the VPS's
        // addresses, pg_hba letting only the migration's role in from those, over TLS.
        ports: s.migrationPeers?.length ? ["5432:5432"] : ["127.0.0.1:5432:5432"],
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
    packages: ["docker.io", "docker-compose", "openssl"],
    files: [
      { path: COMPOSE_FILE, content: renderComposeFile(s) },
      { path: "/etc/probatio/db_password", content: s.postgres.password, permissions: "0600" },
      { path: COMPOSE_PG_HBA, content: renderComposePgHba(s.migrationPeers), permissions: "0644" },
      {
        path: "/etc/probatio/backend.env",
        permissions: "0600",
        content: `DATABASE_URL=postgres://koprogo:${encodeURIComponent(s.postgres.password)}@postgres:5432/koprogo_db\nPORT=${s.backendPort}\n`,
      },
    ],
    commands: [
      // The server's TLS key pair, made once on the VPS (its key never leaves it): self-signed, so a subscriber
      // encrypts (sslmode=require) without verifying the server.
      `test -s ${COMPOSE_PG_TLS_DIR}/server.key || (install -d -m 0755 ${COMPOSE_PG_TLS_DIR} && openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=koprogo-postgres -keyout ${COMPOSE_PG_TLS_DIR}/server.key -out ${COMPOSE_PG_TLS_DIR}/server.crt && chown ${IMAGE_POSTGRES_UID}:${IMAGE_POSTGRES_UID} ${COMPOSE_PG_TLS_DIR}/server.key ${COMPOSE_PG_TLS_DIR}/server.crt && chmod 0600 ${COMPOSE_PG_TLS_DIR}/server.key)`,
      "systemctl enable --now docker",
      `docker-compose -p ${COMPOSE_PROJECT} -f ${COMPOSE_FILE} up -d`,
    ],
    services: ["docker"],
  };
}
