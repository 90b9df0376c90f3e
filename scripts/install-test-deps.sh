#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages: Debian's Chromium for the browser
# tests, and Debian's dump1090-mutability as a real receiver peer for the feed tests (its service
# is kept from starting by a policy-rc.d stub: the tests run it themselves on loopback ports).
# Idempotent; where it cannot install (not root, no apt), it says so and those tests report
# themselves as skipped with the reason.
set -u
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
    [ "$stub_made" = "1" ] && rm -f /usr/sbin/policy-rc.d
  else
    echo "dump1090-mutability is not installed and this user cannot install it: skipped tests"
  fi
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "could not install chromium: browser tests will be skipped"
else
  echo "chromium is not installed and this user cannot install it: browser tests will be skipped"
fi
exit 0
