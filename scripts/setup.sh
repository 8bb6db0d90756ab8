#!/usr/bin/env bash
# Everything snapcli needs on a fresh machine: FFmpeg (from the system's packages when it is
# missing) and snapcli itself with its test tools. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ffmpeg with apt-get" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ffmpeg >/dev/null
  elif command -v brew >/dev/null; then
    echo "setup: installing ffmpeg with Homebrew" >&2
    brew install ffmpeg
  else
    echo "setup: ffmpeg is missing; install FFmpeg 5.0 or newer and run this again" >&2
    exit 4
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
