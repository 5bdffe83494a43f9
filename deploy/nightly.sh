#!/usr/bin/env bash
# Nightly: `minutes fetch` each source, then `minutes sync` what it wrote into the store.
# One run at a time (flock). Output goes to stdout/stderr: the journal under systemd, and
# under cron through systemd-cat (see deploy/crontab). Exit status: 0 when every fetch and
# sync succeeded, else the worst status of any step (1: some papers failed, 2: a usage or
# store error); 75 when another run holds the lock (nothing is done).
#
# Settings, from the environment or $MINUTES_ENV (default /etc/minutes/nightly.env, shell syntax):
#   MINUTES_HOME     working folder (default /var/lib/minutes)
#   MINUTES_SOURCES  the sources file (default $MINUTES_HOME/sources): one source a line,
#                    NAME KIND ARGS..., shell words, e.g.
#                      harrowfield moderngov https://democracy.example.gov.uk --council "Harrowfield District Council"
#                      kestrel legistar kestrel --committee "City Council" --papers
#                    papers go to $MINUTES_PAPERS/NAME with its manifest.csv
#   MINUTES_PAPERS   folder for the papers (default $MINUTES_HOME/papers)
#   MINUTES_STORE    the store sync writes (default $MINUTES_HOME/store)
#   MINUTES_SINCE    how far back each night looks (default 90d)
#   MINUTES_LOCK     the lock file (default $MINUTES_HOME/nightly.lock)
#   MINUTES_BIN      the minutes command (default: minutes on PATH)
set -uo pipefail

env_file="${MINUTES_ENV:-/etc/minutes/nightly.env}"
if [ -r "$env_file" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
fi

home="${MINUTES_HOME:-/var/lib/minutes}"
sources="${MINUTES_SOURCES:-$home/sources}"
papers="${MINUTES_PAPERS:-$home/papers}"
store="${MINUTES_STORE:-$home/store}"
since="${MINUTES_SINCE:-90d}"
lock="${MINUTES_LOCK:-$home/nightly.lock}"
bin="${MINUTES_BIN:-minutes}"

mkdir -p "$(dirname "$lock")" "$papers" || exit 2
exec 9>>"$lock" || exit 2
if ! flock -n 9; then
    echo "minutes-nightly: another run holds $lock; not starting" >&2
    exit 75
fi
if [ ! -r "$sources" ]; then
    echo "minutes-nightly: no sources file $sources" >&2
    exit 2
fi

worst=0
note() {  # keep the worst exit status
    local code=$1
    if [ "$code" -gt "$worst" ]; then worst=$code; fi
}

while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    eval "words=($line)"  # the sources file is the operator's own configuration
    if [ "${#words[@]}" -lt 3 ]; then
        echo "minutes-nightly: bad sources line (NAME KIND ARGS...): $line" >&2
        note 2
        continue
    fi
    name=${words[0]}
    kind=${words[1]}
    out="$papers/$name"
    echo "== $name: minutes fetch $kind"
    "$bin" fetch "$kind" --since "$since" -o "$out" "${words[@]:2}"
    note $?
    if [ -f "$out/manifest.csv" ]; then
        echo "== $name: minutes sync"
        "$bin" sync "$out" --store "$store" --manifest "$out/manifest.csv"
        note $?
    else
        echo "minutes-nightly: $name: no manifest.csv, nothing to sync" >&2
    fi
done < "$sources"

echo "minutes-nightly: done, exit $worst"
exit "$worst"
