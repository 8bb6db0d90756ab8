#!/usr/bin/env bash
# Everything snapcli needs on a fresh machine: snapcli itself, with pip, which brings its ffmpeg
# (imageio-ffmpeg's static build). With --test, also what the tests need: pytest and friends, a
# system FFmpeg (Debian's, from the system's packages when it is missing: the tests hold frames
# exact with both ffmpegs, and make their videos with its encoders), and for the browser test
# Chromium (Debian's package) and the npm packages in tests/e2e.
# Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

apt_install() {  # apt_install PACKAGE...: Debian/Ubuntu only; says so and fails elsewhere
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install $* with your system's package manager and run this again" >&2
    exit 4
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing $* with apt-get" >&2
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ] ||
    $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

pip_install="python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore"
# An editable install is not byte-compiled (pip compiles only what it copies); compile it here,
# or every command compiles snapcli anew where PYTHONDONTWRITEBYTECODE is set (~70 ms a start).
compile="python3 -m compileall -q snapcli"
if ! $for_tests; then
  $pip_install -e .
  $compile
  exit 0
fi
if ! command -v ffmpeg >/dev/null; then
  if command -v brew >/dev/null && ! command -v apt-get >/dev/null; then
    brew install ffmpeg
  else
    apt_install ffmpeg
  fi
fi
$pip_install -e ".[test,cluster]"
$compile
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  apt_install chromium
fi
command -v npm >/dev/null || apt_install nodejs npm
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
