#!/usr/bin/env bash
# One night: run the matrix, write the report, gate on regressions.
#
#   configs/nightly.sh [CONFIG] [--dry-run]
#
# CONFIG defaults to configs/nightly-cpu.json. The night's run id is nightly-YYYY-MM-DD
# (UTC), so a second start on the same day resumes that night. The report goes to
# REPORT_OUT (default: the results root's sibling folder "report") with the previous
# night as its baseline. Exit status: 0 all well; 1 a cell failed (the report is still
# written); 2 bad config; 4 a regression against the previous night.
#
# Environment: LNBENCH (default build/bin/lnbench), LNB_LAUNCH (a launcher put before
# `lnbench run`, e.g. "torchrun --no-python --nproc-per-node 8"), REPORT_OUT, NIGHT.
# --dry-run resolves and prints the config (lnbench run --print-config) and stops.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$root/configs/nightly-cpu.json"
dry=0
for a in "$@"; do
  case "$a" in
    --dry-run) dry=1 ;;
    -*) echo "nightly.sh: unknown option $a" >&2; exit 2 ;;
    *) config="$a" ;;
  esac
done
lnbench="${LNBENCH:-$root/build/bin/lnbench}"
night="${NIGHT:-nightly-$(date -u +%Y-%m-%d)}"
resolved="$("$lnbench" run "$config" --run-id "$night" --print-config)"
if ((dry)); then
  printf '%s\n' "$resolved"
  exit 0
fi
# The resolved config is indented JSON: "results" is one line of it.
results="$(printf '%s\n' "$resolved" | sed -n 's/^  "results": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
[ -n "$results" ] || { echo "nightly.sh: no results root in the resolved config" >&2; exit 2; }
report="${REPORT_OUT:-$(dirname "$results")/report}"

run_rc=0
${LNB_LAUNCH:-} "$lnbench" run "$config" --run-id "$night" --quiet || run_rc=$?
[ "$run_rc" -eq 2 ] && exit 2
report_rc=0
"$lnbench" report "$results" --out "$report" --fail-on-regression || report_rc=$?
echo "nightly.sh: night $night: run exit $run_rc, report exit $report_rc; report in $report/index.html" >&2
[ "$report_rc" -ne 0 ] && exit "$report_rc"
exit "$run_rc"
