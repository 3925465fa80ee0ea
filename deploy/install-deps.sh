#!/usr/bin/env bash
# Install everything loket, its tests and its demo need on Debian 12.
#
# Idempotent and fast on re-runs: apt is skipped when every package is already installed, and
# the aiosmtpd virtualenv (deploy/.venv) is only created when it cannot import aiosmtpd yet.
# Needs root (or sudo) for apt. Safe to run non-interactively (CI=true, no stdin).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

APT_PACKAGES=(
  # OCR: the tesseract crate runs bindgen over these headers (needs libclang).
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-ind tesseract-ocr-eng
  tesseract-ocr-osd pkg-config libclang-dev
  # PDF rendering fallback (pdftoppm) and text checks (pdftotext); HEIC photos (heif-convert).
  poppler-utils libheif-examples
  # Servers for integration tests and the demo (started as private instances, never as system
  # services).
  dovecot-imapd postgresql
  # aiosmtpd SMTP sink lives in a virtualenv; openssl makes the test TLS certificate.
  python3-venv openssl ca-certificates
  # Real-browser tests of the officers' desk: headless Chromium driven over WebDriver, and a
  # font with Latin Extended glyphs so screenshots show text, not boxes (~133 MB download).
  chromium chromium-driver fonts-dejavu-core
  # systemd-analyze checks the units in deploy/ (tests/deployment.rs); nothing is started.
  systemd
  # tests/reverse_proxy.rs runs deploy/nginx-loket.conf in the foreground on loopback (the
  # package's own service is not started: there is no systemd here; elsewhere, stop it).
  nginx-light
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  echo "install-deps: apt packages already present" >&2
fi

# Garage, the S3-compatible object store the object-storage tests run against: built with cargo
# once per machine into ~/.cache/loket-tools (about 8 minutes cold on 2 cores; skipped when the
# binary is there). Not needed to run loket or the demo.
"$here/install-garage.sh"

# aiosmtpd (the SMTP sink) in deploy/.venv; the test harness and services.sh look there first.
# Debian's own python3 is preferred so python3-venv above is the one that matters.
venv="$here/.venv"
if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  py=/usr/bin/python3
  [[ -x "$py" ]] || py="$(command -v python3)"
  echo "install-deps: creating $venv with aiosmtpd" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2'
else
  echo "install-deps: aiosmtpd already in $venv" >&2
fi
