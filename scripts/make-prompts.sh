#!/usr/bin/env bash
# Regenerate the announcement prompts: prompts/<lang>/<name>.wav, 8 kHz mono 16-bit linear PCM WAV,
# normalised to -3 dBFS peak, leading/trailing silence trimmed to 50 ms. Made with espeak-ng + sox
# (Debian packages espeak-ng, sox, libsox-fmt-all). The media plane loads these at start-up
# (src/media/audio/prompt-library.ts) and converts them to mu-law/A-law frames once.
#
# Usage:
#   bash scripts/make-prompts.sh                       regenerate every prompt (overwrites)
#   bash scripts/make-prompts.sh --if-missing          generate only missing files; exit at once when
#                                                      all exist (tests and CI call it this way)
#   bash scripts/make-prompts.sh --import FILE LANG NAME
#                                                      normalise an operator's recording (any format
#                                                      sox reads) to the prompt format and put it in
#                                                      place of prompts/LANG/NAME.wav
#
# NAME is one of: compliance recording-started recording-stopped recording-paused recording-resumed.
# Environment: PROMPTS_DIR (default: <repo>/prompts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${PROMPTS_DIR:-$ROOT/prompts}"
LANGS=(en sv de fr es)
NAMES=(compliance recording-started recording-stopped recording-paused recording-resumed)

# espeak-ng voice per language
declare -A VOICE=([en]=en-gb [sv]=sv [de]=de [fr]=fr-fr [es]=es)

declare -A TEXT=(
  [en/compliance]="This call may be recorded."
  [en/recording-started]="Recording has started."
  [en/recording-stopped]="Recording has stopped."
  [en/recording-paused]="Recording is paused."
  [en/recording-resumed]="Recording has resumed."
  [sv/compliance]="Det här samtalet kan komma att spelas in."
  [sv/recording-started]="Inspelningen har startat."
  [sv/recording-stopped]="Inspelningen har stoppats."
  [sv/recording-paused]="Inspelningen är pausad."
  [sv/recording-resumed]="Inspelningen har återupptagits."
  [de/compliance]="Dieses Gespräch kann aufgezeichnet werden."
  [de/recording-started]="Die Aufzeichnung wurde gestartet."
  [de/recording-stopped]="Die Aufzeichnung wurde beendet."
  [de/recording-paused]="Die Aufzeichnung ist angehalten."
  [de/recording-resumed]="Die Aufzeichnung wird fortgesetzt."
  [fr/compliance]="Cet appel peut être enregistré."
  [fr/recording-started]="L'enregistrement a commencé."
  [fr/recording-stopped]="L'enregistrement est arrêté."
  [fr/recording-paused]="L'enregistrement est en pause."
  [fr/recording-resumed]="L'enregistrement a repris."
  [es/compliance]="Esta llamada puede ser grabada."
  [es/recording-started]="La grabación ha comenzado."
  [es/recording-stopped]="La grabación se ha detenido."
  [es/recording-paused]="La grabación está en pausa."
  [es/recording-resumed]="La grabación se ha reanudado."
)

die() { echo "make-prompts: $*" >&2; exit 1; }

need_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing tool(s): ${missing[*]} (Debian: apt-get install espeak-ng sox libsox-fmt-all); prompts cannot be generated"
  fi
}

# sox effects shared by generation and import: mono 8 kHz (high-quality resampler), trim silence at
# both ends, keep 50 ms of it, normalise the peak to -3 dBFS. -D: no dither, so output is reproducible.
normalise() { # in out
  local tmp="$2.tmp.$$.wav"
  sox -D "$1" -r 8000 -c 1 -b 16 -e signed-integer "$tmp" \
    silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse \
    rate -v -I pad 0.05 0.05 gain -n -3
  mv -f "$tmp" "$2"
}

generate() { # lang name
  local lang="$1" name="$2" text="${TEXT[$1/$2]:-}" voice="${VOICE[$1]:-$1}"
  [ -n "$text" ] || die "no sentence for $lang/$name"
  mkdir -p "$OUT/$lang"
  local raw
  raw="$(mktemp --suffix=.wav)"
  espeak-ng -v "$voice" -s 150 -w "$raw" "$text"
  normalise "$raw" "$OUT/$lang/$name.wav"
  rm -f "$raw"
  echo "  $lang/$name.wav"
}

valid_name() { local n; for n in "${NAMES[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }

case "${1:-}" in
  --if-missing)
    missing=()
    for lang in "${LANGS[@]}"; do
      for name in "${NAMES[@]}"; do [ -f "$OUT/$lang/$name.wav" ] || missing+=("$lang/$name"); done
    done
    [ ${#missing[@]} -eq 0 ] && exit 0
    need_tools espeak-ng sox
    echo "make-prompts: generating ${#missing[@]} missing prompt(s) in $OUT"
    for item in "${missing[@]}"; do generate "${item%%/*}" "${item#*/}"; done
    ;;
  --import)
    [ $# -eq 4 ] || die "usage: $0 --import FILE LANG NAME"
    file="$2" lang="$3" name="$4"
    [ -r "$file" ] || die "cannot read $file"
    [[ "$lang" =~ ^[a-z]{2,3}(-[a-z0-9]+)*$ ]] || die "language '$lang' must be a lower-case tag like en, sv or pt-br"
    valid_name "$name" || die "name '$name' must be one of: ${NAMES[*]}"
    need_tools sox
    mkdir -p "$OUT/$lang"
    normalise "$file" "$OUT/$lang/$name.wav"
    echo "make-prompts: imported $file as $lang/$name.wav"
    ;;
  "")
    need_tools espeak-ng sox
    echo "make-prompts: regenerating all prompts in $OUT"
    for lang in "${LANGS[@]}"; do
      for name in "${NAMES[@]}"; do generate "$lang" "$name"; done
    done
    ;;
  *)
    die "unknown option '$1' (use --if-missing, --import FILE LANG NAME, or no option)"
    ;;
esac
