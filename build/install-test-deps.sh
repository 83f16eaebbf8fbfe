#!/usr/bin/env bash
# Installs the Debian packages orch's tests and benchmarks use (run as root, once per machine).
# etcd-server: the store benchmark's peer; iptables/iproute2: netproxy and network-namespace test
# hosts; docker-registry, skopeo, umoci, busybox-static: local images and a real registry for
# runtime tests; runc: the runtime benchmark's peer; python3-kubernetes: the official Python client.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  ca-certificates git python3 make g++ \
  iptables iproute2 etcd-server docker-registry skopeo umoci busybox-static runc python3-kubernetes
