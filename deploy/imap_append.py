#!/usr/bin/env python3
"""Append .eml files to an IMAP mailbox (stdlib only; used by deploy/demo.sh).

    imap_append.py --host H --port P --user U --password-env VAR [--mailbox INBOX] FILE...

Plain IMAP (the private demo Dovecot); the password is read from the named environment
variable so it never shows up in `ps`.
"""

import argparse
import imaplib
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", required=True)
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    imap = imaplib.IMAP4(args.host, args.port, timeout=15)
    imap.login(args.user, os.environ[args.password_env])
    for path in args.files:
        with open(path, "rb") as f:
            raw = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        typ, data = imap.append(args.mailbox, None, None, raw)
        if typ != "OK":
            sys.exit(f"APPEND {path}: {typ} {data}")
        print(f"appended {os.path.basename(path)} to {args.user}/{args.mailbox}")
    imap.logout()


if __name__ == "__main__":
    main()
