import { ServiceBundle } from "./bundle";
import { APT_REPOSITORY_PACKAGES, aptRepositoryCommands, PM2_VERSION, VendorSources } from "./vendor";

/**
 * Bundles of the application-side services that have no component of their own. Services that belong to a
 * component (postgresql, pgbouncer, redis, haproxy, keepalived, ...) are rendered by that component.
 */
export interface AppServiceContext {
  readonly role: string;
  readonly stack: string;
  readonly pm2Instances?: "max" | number;
  /** Where software from outside Debian comes from. */
  readonly vendors: VendorSources;
}

const pm2Ecosystem = (ctx: AppServiceContext, app: string, port: number) =>
  JSON.stringify(
    {
      apps: [
        {
          name: app,
          script: `/opt/probatio/${app}/app.js`,
          instances: ctx.pm2Instances ?? 1,
          exec_mode: "cluster",
          max_memory_restart: "1G",
          autorestart: true,
          exp_backoff_restart_delay: 100,
          max_restarts: 50,
          env: { NODE_ENV: "production", PORT: port },
        },
      ],
    },
    null,
    2,
  ) + "\n";

/**
 * PM2 from the npm registry (pinned), started by systemd at boot (`pm2 startup`: the pm2-root unit resurrects the
 * saved process list). Once for a machine, before its applications.
 */
export function pm2Runtime(ctx: AppServiceContext): ServiceBundle {
  return {
    packages: ["nodejs", "npm"],
    files: [],
    commands: [`npm install -g --registry=${ctx.vendors.npmRegistry} pm2@${PM2_VERSION}`, "pm2 startup systemd -u root --hp /root"],
    services: ["pm2-root"],
  };
}

/**
 * After the applications: PM2 saves the process list, and systemd takes the PM2 daemon over (pm2-root resurrects
 * the list at every boot), so that the daemon is the unit's from the first boot on.
 */
export const pm2Save: ServiceBundle = { packages: [], files: [], commands: ["pm2 save --force", "pm2 kill", "systemctl start pm2-root"] };

/**
 * An application under PM2. Its release lives in /opt/probatio/<app>; until one is deployed there is nothing to start
 * (PM2 would only restart a missing script in a loop), and the boot log says so.
 */
function pm2App(ctx: AppServiceContext, app: string, port: number): ServiceBundle {
  const config = `/etc/probatio/pm2/${app}.config.json`;
  return {
    packages: [],
    files: [{ path: config, content: pm2Ecosystem(ctx, app, port) }],
    commands: [
      `if [ -f /opt/probatio/${app}/app.js ]; then pm2 start ${config}; else echo "probatio: no release of ${app} in /opt/probatio/${app} yet; PM2 starts it once one is deployed"; fi`,
    ],
  };
}

/** The services that run under PM2. */
export const pm2Apps = new Set(["backend", "api"]);

export const appServices: Readonly<Record<string, (ctx: AppServiceContext) => ServiceBundle>> = {
  backend: (ctx) => pm2App(ctx, "backend", 3000),
  api: (ctx) => pm2App(ctx, "api", 3001),
  "gitlab-runner": (ctx) => ({
    packages: [...APT_REPOSITORY_PACKAGES],
    files: [],
    commands: [
      ...aptRepositoryCommands("gitlab-runner", ctx.vendors.gitlabRunner, ["gitlab-runner"]),
      "systemctl enable --now gitlab-runner",
    ],
    services: ["gitlab-runner"],
  }),
  sonarqube: () => ({ packages: ["openjdk-17-jre-headless"], files: [], commands: [] }),
  "docker-compose": () => ({
    packages: ["docker.io", "docker-compose"],
    files: [],
    commands: ["systemctl enable --now docker"],
    services: ["docker"],
  }),
};
