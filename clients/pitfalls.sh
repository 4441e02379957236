#!/bin/sh
# Reproduces the debugging pitfalls of Onshape's OAuth guide, one at a time, against the
# strict mock, and shows how each is diagnosed. Run from the repository root:
#   sh clients/pitfalls.sh            (builds onshape-mock if needed)
# Each run breaks one thing in the otherwise correct reference client and prints the
# runner's verdict: the rule broken, the request that broke it, and the mock's hint.
set -u
cd "$(dirname "$0")/.."
MOCK=${ONSHAPE_MOCK:-}
if [ -z "$MOCK" ]; then
  cargo build --release --quiet || exit 2
  MOCK=./target/release/onshape-mock
fi
for pitfall in unencoded-client-id token-get query-params json-body no-redirect-uri; do
  printf '\n===== pitfall: %s =====\n' "$pitfall"
  "$MOCK" check --scenario happy-localhost --timeout 10 \
    --command "python3 clients/reference_client.py --pitfall $pitfall"
done
printf '\n===== the correct client =====\n'
"$MOCK" check --scenario happy-localhost --command "python3 clients/reference_client.py"
