#!/usr/bin/env bash
# Derives the STUB OpenStack provider's replacement rules from the real provider's schemas: downloads the Terraform
# OpenStack provider's source from the Go module proxy (the provider Pulumi's OpenStack provider wraps), reads every
# resource's ForceNew fields (tools/stub-schemas), renames them as Pulumi's SDK names them, and writes
# tests/stub-provider/forceNew.json. Run it when @pulumi/openstack is upgraded; the engine tests read the file.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
version="v3.4.0"
module="github.com/terraform-provider-openstack/terraform-provider-openstack/v3"
dir=$(cd /tmp && go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d "$dir" ]] || { echo "could not download $module@$version from the Go module proxy" >&2; exit 1; }
(cd "$here/tools/stub-schemas" && go run . "$dir") > /tmp/probatio-force-new.json
node "$here/scripts/stub-force-new-map.js" /tmp/probatio-force-new.json "$module@$version" > "$here/tests/stub-provider/forceNew.json"
rm -f /tmp/probatio-force-new.json
echo "tests/stub-provider/forceNew.json written from $module@$version" >&2
