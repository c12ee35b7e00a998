#!/usr/bin/env bash
# The whole test suite: installs the Debian packages it needs when missing, builds, runs every test.
#   tools/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Decoding]
# Prints a closing line "N passed, N failed, N skipped" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! tools/install-deps.sh --lab; then
  echo "test: could not install the Debian packages; tests that need them will fail" >&2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build UplinkProbe.sln -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }
dotnet test UplinkProbe.sln -c Release --no-build -nologo \
  --logger "trx;LogFilePrefix=run" --results-directory "$results" "$@"
rc=$?

total_passed=0; total_failed=0; total_skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  total_passed=$((total_passed + ${p:-0})); total_failed=$((total_failed + ${f:-0})); total_skipped=$((total_skipped + ${n:-0}))
done
if [[ $rc -ne 0 && $total_failed -eq 0 ]]; then total_failed=1; fi
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
exit $rc
