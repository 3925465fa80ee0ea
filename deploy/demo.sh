#!/usr/bin/env bash
# End-to-end demo on this machine: private Dovecot + SMTP sink, the sample mail from fixtures/,
# one `loket run --once`, then the cases it filed and the acknowledgements it sent.
#
#   deploy/demo.sh            # from anywhere; works in the repository root
#   deploy/demo.sh --keep     # keep earlier demo state instead of starting over
#
# Starting over removes data/demo-services, data/demo and data/loket.db (the demo's database).
# The servers stay up afterwards so you can look around; stop them with
#   deploy/services.sh stop data/demo-services
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

svc=data/demo-services
demo=data/demo
cfg=$demo/loket.toml

echo "== dependencies"
deploy/install-deps.sh

echo "== build"
cargo build --release
loket=target/release/loket

if ((!keep)); then
  echo "== starting over"
  [[ -d $svc ]] && deploy/services.sh stop "$svc" || true
  rm -rf "$svc" "$demo" data/loket.db data/loket.db-wal data/loket.db-shm
fi
mkdir -p "$demo/blobs" "$demo/spool" data

echo "== services"
deploy/services.sh start "$svc"
# shellcheck source=/dev/null
source "./$svc/env"
export IMAP_PASSWORD

echo "== sample mail into $IMAP_USER/INBOX"
python3 deploy/imap_append.py --host "$IMAP_HOST" --port "$IMAP_PORT" --user "$IMAP_USER" \
  --password-env IMAP_PASSWORD --mailbox INBOX fixtures/mail/*.eml

cat >"$cfg" <<TOML
# Written by deploy/demo.sh for the private demo servers in $svc.
[office]
code = "PSR"
name = "DPMPTSP Kabupaten Pasuruan"

[database]
url = "sqlite://data/loket.db"

[storage]
dir = "$demo/blobs"

[imap]
host = "$IMAP_HOST"
port = $IMAP_PORT
security = "none"
username = "$IMAP_USER"
password = "$IMAP_PASSWORD"
mailbox = "INBOX"
processed_mailbox = "Processed"

[smtp]
host = "$SMTP_HOST"
port = $SMTP_PORT
security = "none"
from = "DPMPTSP Kabupaten Pasuruan <perizinan@example.go.id>"

[spool]
dir = "$demo/spool"

[rules]
dir = "rules"

[ocr]
languages = "ind+eng"

[web]
listen = "127.0.0.1:8080"
base_url = "http://127.0.0.1:8080"
# Plain HTTP on loopback for the demo; behind TLS in an office.
secure_cookies = false
TOML
chmod 600 "$cfg"
echo "config: $cfg"

export OMP_THREAD_LIMIT=1
status=0
echo "== loket run --once"
"$loket" --config "$cfg" run --once || { status=$?; echo "loket run --once failed (exit $status)" >&2; }

echo "== loket cases list"
"$loket" --config "$cfg" cases list || status=$?

echo "== acknowledgements"
shopt -s nullglob
acks=("$SMTP_MAILDIR"/new/* "$SMTP_MAILDIR"/cur/*)
echo "${#acks[@]} message(s) in the SMTP sink's Maildir: $SMTP_MAILDIR/new"
for f in "${acks[@]}"; do
  to="$(sed -n 's/^X-RcptTo: //p' "$f" | head -n1)"
  subject="$(sed -n 's/^Subject: //p' "$f" | head -n1)"
  echo "  to ${to:-?}: ${subject:-(no subject)}"
done
echo
echo "== the officers' desk"
pwfile="$demo/admin-password"
if [[ ! -s "$pwfile" ]]; then
  (umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$pwfile")
  "$loket" --config "$cfg" users add admin --role admin --password-file "$pwfile" || status=$?
fi
echo "start it with: $loket --config $cfg serve"
echo "then open http://127.0.0.1:8080 and log in as admin, password in $pwfile"
echo
echo "IMAP: $IMAP_HOST:$IMAP_PORT user $IMAP_USER (password in $svc/env); stop the servers with"
echo "  deploy/services.sh stop $svc"
exit "$status"
