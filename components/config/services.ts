import { ServiceBundle } from "./bundle";
import { DEFAULT_HEALTH_PATH } from "../../lib/defaults";
import { APT_REPOSITORY_PACKAGES, aptRepositoryCommands, NPM_RELEASE, PM2_VERSION, VendorSources } from "./vendor";

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
  /** What the application is told about the phase (its database, its cache). */
  readonly environment?: Readonly<Record<string, string>>;
  /** The application releases to run, by application name; an application without one runs nothing yet. */
  readonly releases?: Readonly<Record<string, Release>>;
}

/** A release of the user's application: a .tar.gz with app.js at its root, pinned by its checksum. */
export interface Release {
  readonly url: string;
  /** sha256 of the archive, hex. */
  readonly sha256: string;
}

/** Where a machine keeps the release each application must run ("<url> <sha256>"). */
export const releaseFile = (app: string) => `/etc/probatio/releases/${app}`;
export const RELEASE_SCRIPT = "/usr/local/sbin/probatio-release";

/**
 * Installs the release an application must run, checked against its sha256, keeps the one before it (a rollback is
 * the previous release set again, installed without a download), has PM2 start it or reload it one worker at a time,
 * and waits for its health endpoint. Until a release is set it says so and starts nothing (PM2 would only restart a
 * missing script in a loop).
 */
const releaseScript = `#!/bin/sh
set -eu
# The PM2 daemon systemd runs (pm2-root), whoever calls this script.
export HOME=/root PM2_HOME=/root/.pm2
app="$1"
spec="${releaseFile("$app")}"
base="/opt/probatio/$app"
config="/etc/probatio/pm2/$app.config.json"
if [ ! -s "$spec" ]; then
  echo "probatio: no release of $app is set (probatio deploy $app --url ... --sha256 ...); nothing is started"
  exit 0
fi
read -r url sha < "$spec"
dir="$base/releases/$sha"
if [ ! -f "$dir/app.js" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp" "$dir.partial"' EXIT
  curl -fsSL --retry 5 -o "$tmp/release.tar.gz" "$url"
  if ! echo "$sha  $tmp/release.tar.gz" | sha256sum -c --status -; then
    echo "probatio: $url does not have the sha256 $sha: not installed" >&2
    exit 1
  fi
  mkdir -p "$dir.partial"
  tar -xzf "$tmp/release.tar.gz" -C "$dir.partial"
  [ -f "$dir.partial/app.js" ] || { echo "probatio: the release of $app has no app.js at its root" >&2; exit 1; }
  mv "$dir.partial" "$dir"
fi
touch "$dir"
ln -sfn "$dir" "$base/current.new"
mv -T "$base/current.new" "$base/current"
pm2 startOrReload "$config" --update-env
pm2 save --force
port=$(node -e 'console.log(require(process.argv[1]).apps[0].env.PORT)' "$config")
for i in $(seq 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port${DEFAULT_HEALTH_PATH}"; then ok=1; break; fi
  sleep 1
done
[ "\${ok:-0}" = 1 ] || { echo "probatio: $app did not answer on :$port${DEFAULT_HEALTH_PATH} within 60 s" >&2; exit 1; }
# The current release and the one before it stay (a rollback); older ones go.
ls -1t "$base/releases" | tail -n +3 | while read -r old; do rm -rf "$base/releases/$old"; done
echo "probatio: $app runs release $sha"
`;

const pm2Ecosystem = (ctx: AppServiceContext, app: string, port: number) =>
  JSON.stringify(
    {
      apps: [
        {
          name: app,
          script: `/opt/probatio/${app}/current/app.js`,
          instances: ctx.pm2Instances ?? 1,
          exec_mode: "cluster",
          max_memory_restart: "1G",
          autorestart: true,
          exp_backoff_restart_delay: 100,
          max_restarts: 50,
          env: { ...ctx.environment, NODE_ENV: "production", PORT: port },
        },
      ],
    },
    null,
    2,
  ) + "\n";

/** Where npm is unpacked (outside Debian's directories: no package owns it). */
export const NPM_DIR = "/opt/npm";

/**
 * npm from the registry's tarball (`NPM_RELEASE`), its sha512 checked before anything is unpacked; then PM2 installed
 * with it under /usr/local, where no Debian package writes.
 */
export function pm2InstallCommands(registry: string): string[] {
  const tarball = "/var/tmp/npm.tgz";
  return [
    `curl -fsSL -o ${tarball} ${registry}npm/-/npm-${NPM_RELEASE.version}.tgz`,
    `echo '${NPM_RELEASE.sha512}  ${tarball}' | sha512sum -c --quiet -`,
    `install -d ${NPM_DIR} && tar -xzf ${tarball} -C ${NPM_DIR} --strip-components=1 --no-same-owner && rm -f ${tarball}`,
    `node ${NPM_DIR}/bin/npm-cli.js install -g --prefix /usr/local --no-audit --no-fund --registry=${registry} pm2@${PM2_VERSION}`,
  ];
}

/**
 * PM2 from the npm registry (pinned), started by systemd at boot (`pm2 startup`: the pm2-root unit resurrects the
 * saved process list). Once for a machine, before its applications.
 */
export function pm2Runtime(ctx: AppServiceContext): ServiceBundle {
  return {
    packages: ["nodejs", "curl"],
    files: [{ path: RELEASE_SCRIPT, content: releaseScript, permissions: "0755" }],
    commands: [...pm2InstallCommands(ctx.vendors.npmRegistry), "pm2 startup systemd -u root --hp /root"],
    services: ["pm2-root"],
  };
}

/**
 * After the applications: PM2 saves the process list, and systemd takes the PM2 daemon over (pm2-root resurrects
 * the list at every boot), so that the daemon is the unit's from the first boot on.
 */
export const pm2Save: ServiceBundle = { packages: [], files: [], commands: ["pm2 save --force", "pm2 kill", "systemctl start pm2-root"] };

/**
 * An application under PM2: its configuration (with the phase's environment: secret, so readable by root only) and the
 * release it must run, installed by the release script at first boot and on every change delivered in place.
 */
function pm2App(ctx: AppServiceContext, app: string, port: number): ServiceBundle {
  const config = `/etc/probatio/pm2/${app}.config.json`;
  const release = ctx.releases?.[app];
  return {
    packages: [],
    files: [
      { path: config, content: pm2Ecosystem(ctx, app, port), permissions: "0600" },
      ...(release ? [{ path: releaseFile(app), content: `${release.url} ${release.sha256}\n` }] : []),
    ],
    commands: [`${RELEASE_SCRIPT} ${app}`],
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
