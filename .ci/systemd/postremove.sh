#!/bin/sh
# The units are gone: let a running systemd forget them. The user, its home
# (its SSH key) and /etc/es-service-tokens stay, as after any package removal.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
