#!/usr/bin/env bash
# The engine conformance files (docs/engine.md, "Conformance with drachtio-server"), run against the
# embedded engine by default, or against drachtio-server with the same assertions:
#   DRACHTIO_BIN=/path/to/drachtio npm run test:engine-parity     (each file starts its own server)
#   DRACHTIO_HOST=... DRACHTIO_PORT=... DRACHTIO_SECRET=... npm run test:engine-parity
#                                                                 (a running server, files one at a time)
set -euo pipefail
cd "$(dirname "$0")/.."
files=(
  test/integration/engine/conformance-app-link.test.ts
  test/integration/engine/conformance-b2bua.test.ts
  test/integration/engine/conformance-transport.test.ts
  test/integration/engine/conformance-uac.test.ts
  test/integration/engine/conformance-uas.test.ts
  test/integration/engine/malformed-input.test.ts
  test/integration/engine/proxy.test.ts
  test/integration/engine/subscriptions.test.ts
)
serial=()
# Apps of different files on one shared server would route the same verbs and take each other's requests.
if [ -z "${DRACHTIO_BIN:-}" ] && [ -n "${DRACHTIO_HOST:-}" ]; then serial=(--no-file-parallelism); fi
exec npx vitest run "${serial[@]}" "${files[@]}" "$@"
