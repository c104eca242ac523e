#!/bin/sh
# Creates the es-service-tokens system user and the metrics directory's ACL
# (what debhelper and rpm macros would do), and tells systemd about the
# units. Nothing is enabled or started: the timer stays off until
# systemctl enable --now es-service-tokens-check.timer
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
  systemd-sysusers /usr/lib/sysusers.d/es-service-tokens.conf
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/es-service-tokens.conf || true
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
