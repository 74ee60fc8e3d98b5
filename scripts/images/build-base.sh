#!/bin/sh
# Builds a local stand-in for node:20-bookworm-slim when no image registry is reachable:
# a Debian bookworm minbase root from the apt mirror (mmdebstrap) plus this host's own Node 20.
# The host's CA bundle goes into this test-only base (never into our Dockerfiles), and npm and
# pnpm (as root, i.e. in the build stage) are told to use it, so the build stage reaches the npm
# registry through the same trust as the host; node itself keeps its defaults.
# Usage: scripts/images/build-base.sh [tag]   (default docker.io/library/node:20-bookworm-slim)
set -eu
tag=${1:-docker.io/library/node:20-bookworm-slim}
here=$(cd "$(dirname "$0")" && pwd)
: "${CONTAINERS_CONF:=$here/containers.conf}"
export CONTAINERS_CONF
work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-base.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

if podman image exists localhost/debian:bookworm-minbase; then
  echo "build-base: localhost/debian:bookworm-minbase exists, reusing it"
else
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "build-base: mmdebstrap bookworm minbase from $mirror"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$work/rootfs.tar" "$mirror"
  podman import "$work/rootfs.tar" localhost/debian:bookworm-minbase >/dev/null
fi

node_bin=$(command -v node)
case "$("$node_bin" -v)" in
  v20.*) ;;
  *) echo "build-base: the host's node is $("$node_bin" -v), need v20.x" >&2; exit 1 ;;
esac
tar -C / -czf "$work/node20-usr.tgz" usr/bin/node usr/lib/node_modules/npm usr/lib/node_modules/corepack
cp /etc/ssl/certs/ca-certificates.crt "$work/host-ca.crt"
cat > "$work/Containerfile" <<'EOC'
FROM localhost/debian:bookworm-minbase
ADD node20-usr.tgz /
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/bin/npm \
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/bin/npx \
 && ln -sf ../lib/node_modules/corepack/dist/corepack.js /usr/bin/corepack \
 && cat /usr/local/share/ca-certificates/host-ca.crt >> /etc/ssl/certs/ca-certificates.crt \
 && mkdir -p /usr/etc && printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' > /usr/etc/npmrc \
 && cp /usr/etc/npmrc /root/.npmrc \
 && groupadd -g 1000 node && useradd -u 1000 -g 1000 -m -s /bin/bash node
ENV NODE_VERSION=20
CMD ["node"]
EOC
podman build --quiet --pull=never --network=host -t "$tag" -f "$work/Containerfile" "$work" >/dev/null
echo "build-base: built $tag"
