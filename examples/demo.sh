#!/usr/bin/env bash
# Starts three local sshd nodes, creates a token, pushes it, shows each
# node's file and owner, and cleans up. Needs root: each node gets its own
# /etc/elasticsearch through a mount namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "examples/demo.sh: run as root, e.g. sudo $0" >&2
  exit 1
fi
if [ ! -x /usr/sbin/sshd ] || ! command -v sudo >/dev/null; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server openssh-client sudo
fi
export PATH=$PATH:/usr/local/go/bin
exec go run ./examples/demo
