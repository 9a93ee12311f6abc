#!/usr/bin/env bash
# Run every test given: cmocka binaries (under $VALGRIND when set) and shell
# tests. cmocka's own result lines go to stdout; a summary ends the run.
set -uo pipefail

export BUILD="${BUILD:-build}"
export XENSUP_BUILD="$(cd "$BUILD" && pwd)"
export XENSUP_SRC="$(pwd)"
failed=()
passed=0

for t in "$@"; do
        echo "=== $t"
        case "$t" in
        *.sh) bash "$t" ;;
        *) ${VALGRIND:-} "$t" ;;
        esac
        rc=$?
        if [ "$rc" -eq 0 ]; then
                passed=$((passed + 1))
        else
                echo "=== $t FAILED (exit $rc)"
                failed+=("$t")
        fi
done

echo "summary: $passed passed, ${#failed[@]} failed"
for t in "${failed[@]}"; do echo "FAILED: $t"; done
[ "${#failed[@]}" -eq 0 ]
