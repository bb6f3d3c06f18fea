#!/usr/bin/env bash
# The nightly schedules (configs/nightly.sh, configs/schedule/*): shell syntax, the cron
# line's shape, the systemd units' sections, a dry run of both example configs with the
# real lnbench, and nightly.sh's sequence and exit codes against a recording stand-in.
#   nightly_schedule_test.sh SOURCE_DIR LNBENCH
set -euo pipefail
src="$1"; lnbench="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# 1. syntax
bash -n "$src/configs/nightly.sh" || fail "nightly.sh syntax"
bash -n "$src/configs/schedule/nightly.slurm" || fail "nightly.slurm syntax"
grep -q '^#SBATCH --gpus-per-node=' "$src/configs/schedule/nightly.slurm" || fail "slurm: no GPU request"
grep -q 'configs/nightly.sh' "$src/configs/schedule/nightly.slurm" || fail "slurm: does not run nightly.sh"

# 2. cron: one active line, five time fields, then a command running nightly.sh
lines="$(grep -v '^[[:space:]]*#' "$src/configs/schedule/nightly.cron" | grep -v '^[[:space:]]*$')"
[ "$(printf '%s\n' "$lines" | wc -l)" -eq 1 ] || fail "cron: expected one active line"
read -r m h dom mon dow cmd <<<"$lines"
for f in "$m" "$h" "$dom" "$mon" "$dow"; do [[ "$f" =~ ^[0-9*/,-]+$ ]] || fail "cron: bad time field '$f'"; done
[[ "$cmd" == *configs/nightly.sh* ]] || fail "cron: command does not run nightly.sh"

# 3. systemd: the sections and keys a oneshot service and its timer need
svc="$src/configs/schedule/lnbench-nightly.service" timer="$src/configs/schedule/lnbench-nightly.timer"
for k in '^\[Unit\]' '^\[Service\]' '^Type=oneshot' '^ExecStart=.*configs/nightly.sh'; do grep -q "$k" "$svc" || fail "service: no $k"; done
for k in '^\[Timer\]' '^OnCalendar=' '^\[Install\]' '^WantedBy=timers.target'; do grep -q "$k" "$timer" || fail "timer: no $k"; done
if command -v systemd-analyze >/dev/null 2>&1; then
  cp "$svc" "$timer" "$tmp/" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --user "$tmp/lnbench-nightly.timer" >/dev/null 2>&1 \
    || echo "note: systemd-analyze verify unavailable in this environment"
fi

# 4. dry runs of the example configs with the real binary
for c in nightly-cpu.json nightly-gpu-llava15-7b.json; do
  out="$(LNBENCH="$lnbench" NIGHT=nightly-test "$src/configs/nightly.sh" "$src/configs/$c" --dry-run)" || fail "dry run of $c"
  grep -q '"run_id": "nightly-test"' <<<"$out" || fail "dry run of $c: run id not the night's"
done

# 5. the sequence and exit codes, with a stand-in that records its calls
cat > "$tmp/fake" <<'FAKE'
#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
if [ "$1 ${*: -1}" = "run --print-config" ]; then printf '{\n  "run_id": "x",\n  "results": "%s/results",\n  "device": "cpu"\n}\n' "$FAKE_DIR"; exit 0; fi
[ "$1" = run ] && exit "${FAKE_RUN_RC:-0}"
[ "$1" = report ] && exit "${FAKE_REPORT_RC:-0}"
exit 9
FAKE
chmod +x "$tmp/fake"
export FAKE_LOG="$tmp/log" FAKE_DIR="$tmp"
check() {  # expected-exit run-rc report-rc
  : > "$FAKE_LOG"
  set +e; FAKE_RUN_RC=$2 FAKE_REPORT_RC=$3 LNBENCH="$tmp/fake" NIGHT=n1 "$src/configs/nightly.sh" cfg.json 2>/dev/null; rc=$?; set -e
  [ "$rc" -eq "$1" ] || fail "run $2 report $3: exit $rc, expected $1"
}
check 0 0 0
grep -qx 'run cfg.json --run-id n1 --quiet' "$FAKE_LOG" || fail "the night's run call: $(cat "$FAKE_LOG")"
grep -qx "report $tmp/results --out $tmp/report --fail-on-regression" "$FAKE_LOG" || fail "the report call: $(cat "$FAKE_LOG")"
check 4 0 4   # a regression fails the night
check 1 1 0   # a failed cell fails the night, the report is still written
grep -q '^report ' "$FAKE_LOG" || fail "no report after a failed cell"
check 2 2 0   # a bad config stops before the report
! grep -q '^report ' "$FAKE_LOG" || fail "a report after a config error"
echo "NIGHTLY SCHEDULES OK"
