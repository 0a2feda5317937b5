#!/usr/bin/env bash
# Generate the raw G.711 mu-law tone files the SIPp pack plays (sipp-scenarios/pack/, README there).
# SIPp 3.6.1's rtp_stream sends a file's bytes as they are (it does not skip WAV headers), so these
# are headerless 8 kHz mono mu-law (.ul), 20 s each, -12 dBFS, distinct tones per party so each
# channel of a recording can be told apart:
#
#   caller.ul   600 Hz   the calling party (PSTN caller, user placing a call)
#   callee.ul  1000 Hz   the called party (user answering, PSTN callee, transfer target)
#
# Usage: bash scripts/make-test-audio.sh [OUT_DIR]   (default: sipp-scenarios/pack/audio, not committed)
# Needs sox (Debian: sox). The scenarios read audio/caller.ul and audio/callee.ul relative to the
# directory SIPp runs in, so run SIPp from the folder that holds audio/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/sipp-scenarios/pack/audio}"
command -v sox >/dev/null 2>&1 || { echo "sox is required (Debian: apt-get install sox)" >&2; exit 1; }
mkdir -p "$OUT"

tone() { # name frequency
  sox -q -n -r 8000 -c 1 -e mu-law -b 8 -t raw "$OUT/$1.ul" synth 20 sine "$2" vol -12dB
}
tone caller 600
tone callee 1000
echo "wrote $OUT/caller.ul $OUT/callee.ul"
