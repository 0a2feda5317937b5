#!/usr/bin/env bash
# The one test command (README: `npm run test:all`; CI: .ci/run). On a fresh machine of this kind it
# installs what the tests need (Debian packages when missing, npm packages from the lock file), then
# typechecks, lints and runs every test, and ends with one line: `N passed, N failed, N skipped`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox libsox-fmt-all)
# the field test bed (test/integration/field, docs/field-tests.md): real phones in network namespaces
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
command -v linphonec >/dev/null 2>&1 || need+=(linphone-cli)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
# README's examples, run as written (test/integration/run-command/readme-examples.test.ts)
command -v curl >/dev/null 2>&1 || need+=(curl)
# throwaway TLS certificates (test/integration/engine/tls.test.ts, test/integration/srs/srs-tls-provider.test.ts)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# the web console's browser tests (test/integration/console): Debian's chromium, driven by playwright-core
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the PostgreSQL settings store's tests (test/support/postgres-cluster.ts): a throwaway cluster from Debian's postgresql
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# the multi-node test (test/integration/scale): Kamailio in front of the nodes, deploy/kamailio/kamailio.cfg
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing test tools: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
for tool in sipp espeak-ng sox baresip linphonec ip nft curl openssl chromium kamailio; do
  command -v "$tool" >/dev/null 2>&1 || { echo "required test tool '$tool' is missing after install" >&2; exit 1; }
done
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "required test tool 'initdb' (Debian's postgresql) is missing after install" >&2; exit 1; }

npm ci --no-audit --no-fund
bash scripts/make-prompts.sh --if-missing
npm run -s typecheck
npm run -s lint

# SIPp opens many sockets in the load-shaped tests.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The tests' fixed ports (test/support/ports.ts, 14000-49999) are probed before use, but a socket
# the kernel gives a port of its own choosing (an HTTP client, SIPp, a product running beside the
# suite) may take one between the probe and the bind. Where this may be set (root), the kernel
# keeps its own choice off the part of its ephemeral range (32768-60999) the tests use, for the
# run only: the previous setting is put back at exit.
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
if [ -w "$reserved" ] && previous=$(cat "$reserved") && echo "${previous:+$previous,}32768-49999" > "$reserved" 2>/dev/null; then
  trap 'echo "$previous" > "$reserved"' EXIT
fi

mkdir -p test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json || status=$?
node scripts/summarize-tests.mjs test-results/vitest.json
exit "$status"
