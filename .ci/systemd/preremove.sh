#!/bin/sh
# Stop the timer (and a running check) before the units are removed; an
# upgrade keeps it as it was.
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then
      systemctl disable --now es-service-tokens-check.timer >/dev/null 2>&1 || true
      systemctl stop es-service-tokens-check.service >/dev/null 2>&1 || true
    fi ;;
esac
