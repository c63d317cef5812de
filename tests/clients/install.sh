#!/bin/sh
# Installs the npm IMAP client the integration tests drive (imapflow),
# pinned, into a directory outside the tree (default /tmp/redoubt-clients,
# or $REDOUBT_CLIENTS_DIR). Needs network access to the npm registry, so
# it is a separate step: the tests skip the client when it is missing.
#   tests/clients/install.sh && REDOUBT_BIN=... pytest tests/integration
set -eu
dir="${REDOUBT_CLIENTS_DIR:-/tmp/redoubt-clients}"
mkdir -p "$dir"
npm install --no-audit --no-fund --prefix "$dir" imapflow@1.7.8
echo "imapflow installed in $dir"
