#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages: Debian's Chromium for the browser
# tests, Node.js for the independent log verifier (tests/interop). Idempotent; where it cannot
# install (not root, no apt), it says so and those tests report themselves as skipped with the
# reason.
set -u
need() {  # need COMMAND DEBIAN-PACKAGE WHAT
  if command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's $2 for $3"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null) \
      || echo "could not install $2: $3 will be skipped"
  else
    echo "$2 is not installed and this user cannot install it: $3 will be skipped"
  fi
}
need chromium chromium "the browser tests"
need node nodejs "the Node.js log verifier tests"
exit 0
