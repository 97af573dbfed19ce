#!/bin/sh
# examples/automation/ci-sync.sh: from CI, add the addresses of a file (one per
# line) to a list, then report how many contacts the list holds.
#
#   CTCT_ACCESS_TOKEN=${{ secrets.CTCT_ACCESS_TOKEN }} examples/automation/ci-sync.sh emails.txt LIST_ID
#
# CTCT_ACCESS_TOKEN comes from the CI's secret store: no login, no files, and ctct
# never prints it (not even with --verbose). The import is a CSV bulk activity,
# waited for; a CSV without an email column, or a bad list id, exits 2.
set -eu
emails=${1:?usage: ci-sync.sh EMAILS.txt LIST_ID}
list_id=${2:?usage: ci-sync.sh EMAILS.txt LIST_ID}
ctct=${CTCT:-ctct}
: "${CTCT_ACCESS_TOKEN:?set CTCT_ACCESS_TOKEN (a secret of the CI)}"

csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
{ echo email; grep -v '^[[:space:]]*$' "$emails"; } > "$csv"

"$ctct" --quiet -o json contacts import "$csv" --list "$list_id"
count=$("$ctct" -o csv --fields contact_id contacts list --list "$list_id" | tail -n +2 | wc -l)
echo "list $list_id now has $count contacts"
