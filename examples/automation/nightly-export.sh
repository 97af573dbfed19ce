#!/bin/sh
# examples/automation/nightly-export.sh: export every contact of a list to a dated
# CSV file, keeping 14 days. For cron (crontab -e):
#
#   15 2 * * *  CTCT_PROFILE=shop /path/to/nightly-export.sh 0f7c...list-id /srv/exports >>/var/log/ctct-export.log 2>&1
#
# Log in once with `ctct login --profile shop`: the tokens (0600, refreshed
# automatically) live in $XDG_CONFIG_HOME/ctct/. Exit codes: 3 means the login
# expired (run ctct login again), 4 the daily quota, 5 the network: retry later.
set -eu
list_id=${1:?usage: nightly-export.sh LIST_ID DIR}
dir=${2:?usage: nightly-export.sh LIST_ID DIR}
ctct=${CTCT:-ctct}

mkdir -p "$dir"
file="$dir/contacts-$(date -u +%Y-%m-%d).csv"
status=0
"$ctct" --quiet -o json contacts export "$file" --list "$list_id" || status=$?
case $status in
  0) echo "exported to $file" ;;
  3) echo "ctct: login expired; run: ctct login --profile ${CTCT_PROFILE:-default}" >&2; exit 3 ;;
  4|5) echo "ctct: temporary failure ($status); will retry next run" >&2; exit "$status" ;;
  *) exit "$status" ;;
esac
find "$dir" -name 'contacts-*.csv' -mtime +14 -delete
