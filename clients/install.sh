#!/bin/sh
# Installs the real OAuth libraries that the adapters in clients/ drive, at the versions pinned
# in clients/python/requirements.txt and clients/node/package-lock.json: the Python ones into
# target/client-libs/python (use it as PYTHONPATH), the npm ones into clients/node/node_modules.
# libfaketime comes with the Python ones (PyPI's `libfaketime` ships a build of the library,
# target/client-libs/python/libfaketime/vendor/libfaketime/src/libfaketime.so.1), for the
# shared clock. Every transitive Python package is pinned in clients/python/constraints.txt. Does nothing when the pins have not changed since the last install.
# Needs python3 with pip, node and npm, and the PyPI and npm registries.
set -eu
cd "$(dirname "$0")/.."
LIBS=target/client-libs
want=$(cat clients/python/requirements.txt clients/python/constraints.txt clients/node/package-lock.json \
  | sha256sum | cut -c1-16)
if [ "$(cat "$LIBS/.installed" 2>/dev/null)" = "$want" ] && [ -d clients/node/node_modules ]; then
  exit 0
fi
rm -rf "$LIBS/python"
mkdir -p "$LIBS/python"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
  --root-user-action=ignore --target "$LIBS/python" \
  -r clients/python/requirements.txt -c clients/python/constraints.txt
(cd clients/node && npm ci --silent --no-audit --no-fund)
echo "$want" > "$LIBS/.installed"
