import { ServiceBundle } from "./bundle";

/**
 * Bundles of the application-side services that have no component of their own. Services that belong to a
 * component (postgresql, pgbouncer, redis, haproxy, keepalived, ...) are rendered by that component.
 */
export interface AppServiceContext {
  readonly role: string;
  readonly stack: string;
  readonly pm2Instances?: "max" | number;
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

export const appServices: Readonly<Record<string, (ctx: AppServiceContext) => ServiceBundle>> = {
  backend: (ctx) => ({
    packages: ["nodejs", "npm"],
    files: [{ path: "/etc/probatio/pm2/backend.config.json", content: pm2Ecosystem(ctx, "backend", 3000) }],
    commands: [
      "npm install -g pm2",
      "pm2 start /etc/probatio/pm2/backend.config.json",
      "pm2 startup systemd -u root --hp /root",
      "pm2 save",
    ],
  }),
  api: (ctx) => ({
    packages: ["nodejs", "npm"],
    files: [{ path: "/etc/probatio/pm2/api.config.json", content: pm2Ecosystem(ctx, "api", 3001) }],
    commands: ["npm install -g pm2", "pm2 start /etc/probatio/pm2/api.config.json", "pm2 save"],
  }),
  "gitlab-runner": () => ({ packages: ["gitlab-runner"], files: [], commands: ["systemctl enable --now gitlab-runner"] }),
  sonarqube: () => ({ packages: ["openjdk-17-jre-headless"], files: [], commands: [] }),
  "docker-compose": () => ({ packages: ["docker.io", "docker-compose"], files: [], commands: ["systemctl enable --now docker"] }),
};
