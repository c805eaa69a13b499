#!/usr/bin/env bash
# Installs the Debian packages cogent needs to build, test and benchmark, if any is missing.
# Idempotent: when everything is present it does nothing and touches no network.
set -euo pipefail

packages=(
  cmake make g++ clang
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-context-dev
  valgrind
  pkg-config liburing-dev
  # networking: the resolver (c-ares) and TLS (OpenSSL; the tests make their certificates with
  # its library, the openssl command is for looking at them by hand)
  libc-ares-dev libssl-dev openssl
  # the HTTP client (libcurl's multi interface) and the hooks' proof with unmodified libcurl
  libcurl4-openssl-dev
  # benchmark peers and plots
  libboost-fiber-dev golang-go gnuplot-nox
  # echo benchmark peers: Asio (standalone) and gevent
  libasio-dev python3-gevent
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "cogent: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
