# Sourced by the two smoke scripts (testbeds/*/test_*_smoke.sh): the PASS/FAIL tally, the
# root check, and `down` judged by a snapshot of the machine taken before `up` (each script
# defines its own `snapshot`: what its tool may create). Ends with the plain
# "N passed, N failed" line.
passed=0; failed=0
ok()   { echo "PASS: $*"; passed=$((passed + 1)); }
bad()  { echo "FAIL: $*"; failed=$((failed + 1)); }

need_root() {
    if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
}

# down_leaves_nothing TOOL BEFORE WHAT: `TOOL down`, then the snapshot must equal BEFORE;
# WHAT names what the snapshot covers.
down_leaves_nothing() {
    local tool="$1" before="$2" what="$3" after
    if $tool down; then ok "down"; else bad "down reported leftovers"; fi
    after="$(snapshot)"
    if [ "$before" = "$after" ]; then
        ok "down left no $what behind"
    else
        bad "machine differs after down:"; diff <(echo "$before") <(echo "$after")
    fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
