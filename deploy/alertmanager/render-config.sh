#!/bin/sh
# Write Alertmanager's configuration with the receiver's URL filled in, then (with more
# arguments) run them: render-config.sh TEMPLATE OUTPUT [COMMAND...]
# The URL comes from ALERT_WEBHOOK_URL_FILE (a Docker or Kubernetes secret file) or, failing
# that, ALERT_WEBHOOK_URL. A missing or placeholder URL stops the start with a message: alerts
# that reach no one are worse than a service that says it is not configured.
set -eu
template=$1
output=$2
shift 2
url=${ALERT_WEBHOOK_URL:-}
if [ -n "${ALERT_WEBHOOK_URL_FILE:-}" ]; then
    if [ ! -r "$ALERT_WEBHOOK_URL_FILE" ]; then
        echo "alertmanager: cannot read ALERT_WEBHOOK_URL_FILE=$ALERT_WEBHOOK_URL_FILE" >&2
        exit 2
    fi
    url=$(head -n 1 "$ALERT_WEBHOOK_URL_FILE" | tr -d '\r')
fi
case "$url" in
    http://*|https://*) ;;
    *) echo "alertmanager: set ALERT_WEBHOOK_URL (or ALERT_WEBHOOK_URL_FILE) to the http(s) URL" \
            "that receives alerts" >&2
       exit 2 ;;
esac
case "$url" in
    *change-me*|*example.invalid*)
        echo "alertmanager: ALERT_WEBHOOK_URL is still the placeholder; set the real receiver" >&2
        exit 2 ;;
esac
# escape what sed's replacement treats specially: the delimiter, & and backslash
escaped=$(printf '%s' "$url" | sed 's/[|&\\]/\\&/g')
sed "s|@ALERT_WEBHOOK_URL@|$escaped|" "$template" > "$output"
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
