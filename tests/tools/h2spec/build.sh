#!/usr/bin/env bash
# Builds the h2spec HTTP/2 conformance tester offline: the library from ../shared/vendor/h2spec
# (beside this checkout), its command from this folder (main.go), with Go and the Go libraries
# from Debian's packages.
#   usage: tests/tools/h2spec/build.sh DIR  -> prints the path of the h2spec binary it built
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendored="$here/../../../../shared/vendor/h2spec"
out="${1:?usage: build.sh DIR}"
if [ ! -d "$vendored" ]; then
    echo "h2spec: no vendored source at ../shared/vendor/h2spec" >&2
    exit 1
fi
packages="golang-go golang-github-fatih-color-dev golang-golang-x-net-dev
    golang-github-mattn-go-colorable-dev golang-github-mattn-go-isatty-dev golang-golang-x-sys-dev"
# shellcheck disable=SC2086
if ! dpkg -s $packages >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
source_dir="$out/gopath/src/github.com/summerwind/h2spec"
rm -rf "$out/gopath"
mkdir -p "$(dirname "$source_dir")"
cp -r "$vendored" "$source_dir"
mkdir -p "$source_dir/cmd/fastasgi-h2spec"
cp "$here/main.go" "$source_dir/cmd/fastasgi-h2spec/main.go"
(cd "$source_dir" && GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= \
    go build -o "$out/h2spec" ./cmd/fastasgi-h2spec)
echo "$out/h2spec"
