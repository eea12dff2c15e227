/**
 * Software that does not come from Debian's own mirror: vendors' apt repositories (GitLab's runner, Grafana) and the
 * npm registry (PM2). Each source is a setting, so that a machine without the internet can use a mirror, and the
 * boot tests point them at local stand-ins: the rendered steps stay the same.
 */

/** A vendor's apt repository: `deb [signed-by=<key>] url suite component`, its signing key fetched from `keyUrl`. */
export interface AptRepository {
  readonly url: string;
  readonly suite: string;
  readonly component: string;
  readonly keyUrl: string;
}

/** Where software from outside Debian comes from. */
export interface VendorSources {
  /** GitLab's repository of gitlab-runner. */
  readonly gitlabRunner: AptRepository;
  /** Grafana's repository. */
  readonly grafana: AptRepository;
  /** The npm registry PM2 is installed from. */
  readonly npmRegistry: string;
}

/** The vendors' own sources. */
export const VENDOR_SOURCES: VendorSources = {
  gitlabRunner: {
    url: "https://packages.gitlab.com/runner/gitlab-runner/debian/",
    suite: "bookworm",
    component: "main",
    keyUrl: "https://packages.gitlab.com/runner/gitlab-runner/gpgkey",
  },
  grafana: { url: "https://apt.grafana.com", suite: "stable", component: "main", keyUrl: "https://apt.grafana.com/gpg.key" },
  npmRegistry: "https://registry.npmjs.org/",
};

/** PM2's version, pinned: every backend runs the same. */
export const PM2_VERSION = "5.4.3";

/**
 * npm, pinned, from the registry PM2 comes from: the registry's tarball of npm bundles its dependencies (one file,
 * checked against the sha512 the registry published for it) where Debian's npm is 360 packages on Debian 12: measured
 * here, 54-88 s of dpkg on a backend against about 2 s, so an autoscaled backend serves sooner. npm 10 runs on
 * Debian 12's nodejs (18.19; npm 10.9 needs ^18.17, npm 11 does not run on it). Used once, to install PM2.
 */
export const NPM_RELEASE = {
  version: "10.9.9",
  sha512:
    "d60fba8cb42f688b81e33c2f1cbef2ad7b977166700ec0ad057f1b6d60ea6ef2524abf673e20c35931cd8305d1dbb8887134d6eefdc0e7b8435bd458bf65b862",
} as const;

/**
 * Commands that add a vendor's repository (its key in /etc/apt/keyrings, a sources.list.d entry that only that key
 * may sign) and install packages from it. They run after Debian's packages (curl and gpg among them) are installed.
 */
export function aptRepositoryCommands(name: string, repo: AptRepository, packages: readonly string[]): string[] {
  const keyring = `/etc/apt/keyrings/${name}.gpg`;
  return [
    "install -d -m 0755 /etc/apt/keyrings",
    `curl -fsSL ${repo.keyUrl} | gpg --dearmor --yes -o ${keyring}`,
    `echo 'deb [signed-by=${keyring}] ${repo.url} ${repo.suite} ${repo.component}' > /etc/apt/sources.list.d/${name}.list`,
    "apt-get update",
    `DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(" ")}`,
  ];
}

/** The Debian packages the commands above need. */
export const APT_REPOSITORY_PACKAGES = ["curl", "gpg"] as const;
