#!/usr/bin/env bash
# Installs what Gatehouse's tests need on a Debian machine, idempotently:
# Debian's chromium (driven by chromedp in the end-to-end tests).
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-test-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "install-test-deps: chromium $(chromium --version 2>/dev/null | awk '{print $2}')"
