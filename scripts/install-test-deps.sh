#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages: Debian's Chromium for the browser
# tests, Node.js for the independent log verifier (tests/interop), and Debian's
# dump1090-mutability as a real receiver peer for the feed tests (its service is kept from
# starting by a policy-rc.d stub: the tests run it themselves on loopback ports). Idempotent;
# where it cannot install (not root, no apt), it says so and those tests report themselves as
# skipped with the reason (under CI=true, as failures).
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
if ! command -v dump1090-mutability >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's dump1090-mutability for the feed tests (service not started)"
    stub_made=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      stub_made=1
    fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      dump1090-mutability >/dev/null) \
      || echo "could not install dump1090-mutability: its feed tests will be skipped"
    if [ "$stub_made" = "1" ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "dump1090-mutability is not installed and this user cannot install it: skipped tests"
  fi
fi
exit 0
