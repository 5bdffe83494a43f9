#!/usr/bin/env bash
# alert.sh UNIT: report that UNIT failed (run by minutes-alert@.service from OnFailure=).
# Writes the failure and UNIT's last log lines to stdout (the journal); mails them to
# $MINUTES_ALERT_MAIL when it is set (from the environment or $MINUTES_ENV) and `mail` exists.
set -uo pipefail
unit="${1:?usage: alert.sh UNIT}"
env_file="${MINUTES_ENV:-/etc/minutes/nightly.env}"
if [ -r "$env_file" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
fi
host="$(hostname 2>/dev/null || echo unknown)"
subject="minutes: $unit failed on $host"
body="$(systemctl status --no-pager "$unit" 2>&1; echo; journalctl -u "$unit" -n 60 --no-pager 2>&1)"
echo "$subject"
printf '%s\n' "$body"
if [ -n "${MINUTES_ALERT_MAIL:-}" ]; then
    if command -v mail >/dev/null; then
        printf '%s\n' "$body" | mail -s "$subject" "$MINUTES_ALERT_MAIL" || echo "alert.sh: mail to $MINUTES_ALERT_MAIL failed" >&2
    else
        echo "alert.sh: MINUTES_ALERT_MAIL is set but there is no mail command (apt-get install bsd-mailx)" >&2
    fi
fi
exit 0
