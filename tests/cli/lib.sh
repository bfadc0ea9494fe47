# Shared by the CLI boundary tests (sourced, not run): a scratch directory,
# the pass/fail counters with `pass`, `fail` and `check`, and `expect`.
# The sourcing script sets `bin` first.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# expect NAME WANT_STATUS WANT_LINES PATTERN -- ARGS...
# Runs "$bin" ARGS (20 s at most) and counts a pass when the exit status, the
# number of non-empty output lines (stdout and stderr) and PATTERN all match.
expect() {
  local name=$1 want_status=$2 want_lines=$3 pattern=$4
  shift 5
  local out status lines
  out=$(timeout 20 "$bin" "$@" 2>&1)
  status=$?
  lines=$(printf '%s\n' "$out" | grep -c .)
  if [[ $status == "$want_status" && $lines == "$want_lines" ]] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: status %s (want %s), %s line(s) (want %s), output:\n%s\n' \
      "$name" "$status" "$want_status" "$lines" "$want_lines" "$out"
  fi
}

pass() { passed=$((passed + 1)); }
# fail MESSAGE...: counts a failure and says what failed.
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
# check NAME COMMAND...: a pass when the command succeeds, else a failure named NAME.
check() {
  local name=$1
  shift
  if "$@"; then pass; else fail "$name"; fi
}
