#!/usr/bin/env bash
# Turns the protocol's golden fixtures into framed seeds for the frame_decoder target.
#
# A fixture is a hex-encoded MessagePack body; a seed is one selector byte (the target cuts
# its input at a position derived from it), the 4-byte big-endian length, then the body.
# Two extra seeds chain every agent or every controller frame, so that the fuzzer starts
# from streams of several frames too. Pure bash: CI images may lack xxd or python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixtures="$here/../protocol/tests/fixtures"
out="$here/corpus/frame_decoder"
mkdir -p "$out"

# Prints the binary frame (prefix and body) of one hex fixture.
frame() {
    local hex
    hex="$(tr -d ' \t\r\n' <"$1")"
    if (( ${#hex} % 2 != 0 )) || [[ ! $hex =~ ^[0-9a-fA-F]*$ ]]; then
        echo "seed-corpus: $1 is not an even-length hex string" >&2
        return 1
    fi
    local len=$(( ${#hex} / 2 ))
    printf '%b' "$(printf '\\x%02x' $(( len >> 24 & 255 )) $(( len >> 16 & 255 )) \
        $(( len >> 8 & 255 )) $(( len & 255 )))"
    printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")"
}

shopt -s nullglob
files=("$fixtures"/*.hex)
if (( ${#files[@]} == 0 )); then
    echo "seed-corpus: no fixtures in $fixtures" >&2
    exit 1
fi

selector=0
for side in agent controller; do
    chain="$out/seed-all-$side"
    : >"$chain"
    printf '\x11' >>"$chain"
    for f in "${files[@]}"; do
        name="$(basename "$f" .hex)"
        [[ $name == "$side"_* ]] || continue
        # Vary the selector so the seeds start with cuts at different places.
        selector=$(( (selector + 37) % 256 ))
        { printf '%b' "$(printf '\\x%02x' "$selector")"; frame "$f"; } >"$out/seed-$name"
        frame "$f" >>"$chain"
    done
done

echo "seed-corpus: $(ls "$out" | wc -l) files in $out"
