#!/usr/bin/env bash
# Installs what Gatehouse's tests need on a Debian machine, idempotently:
# - Debian's chromium (driven by chromedp in the end-to-end tests);
# - SimpleSAMLphp and the PHP it runs on (the test SAML IdP, internal/testidp);
# - Debian's pebble and pebble-challtestsrv (the test ACME CA, app/tls_pebble_test.go);
# - Debian's nginx, caddy and haproxy (the edge proxies of the forward-auth tests,
#   app/e2e_edge_test.go) and libnss3-tools (certutil, for Chromium's trust
#   store in the TLS test);
# - Debian's wrk (the load generator of scripts/bench.sh);
# - git (scripts/release.sh, run by app/release_test.go, reads the commit);
# - Debian's postgresql (the throwaway clusters of the PostgreSQL tests,
#   internal/testkit/postgres.go; its server programs live in
#   /usr/lib/postgresql/<version>/bin);
# - the npm dependencies of the test OpenID provider (scripts/e2e/oidc).
# When everything is already there it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for pkg in simplesamlphp php-cli php-xml php-mbstring php-curl pebble nginx caddy haproxy libnss3-tools wrk git; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# PostgreSQL: Debian's package, unless its server programs are already there.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-test-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d scripts/e2e/oidc/node_modules/oidc-provider ]; then
  echo "install-test-deps: npm ci in scripts/e2e/oidc"
  (cd scripts/e2e/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "install-test-deps: chromium $(chromium --version 2>/dev/null | awk '{print $2}')," \
  "simplesamlphp $(dpkg-query -W -f='${Version}' simplesamlphp)," \
  "php $(php -r 'echo PHP_VERSION;'), node $(node --version)," \
  "pebble $(dpkg-query -W -f='${Version}' pebble)," \
  "nginx $(dpkg-query -W -f='${Version}' nginx), caddy $(dpkg-query -W -f='${Version}' caddy)," \
  "haproxy $(dpkg-query -W -f='${Version}' haproxy)," \
  "libnss3-tools $(dpkg-query -W -f='${Version}' libnss3-tools), wrk $(dpkg-query -W -f='${Version}' wrk)," \
  "postgresql $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 | cut -d/ -f4)"
