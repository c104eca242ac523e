package sshdtest

// KibanaKeystore plays kibana-keystore on a consumer machine (consumer
// machines are sshd test nodes too), installed as DIR/bin/kibana-keystore:
// `add --stdin --force SETTING` stores what it reads on stdin, `list` lists
// the settings of DIR/kibana.keystore, `create` makes the keystore. Like
// Kibana's, add and list without a keystore say so and exit 0. It refuses
// any other command line, and above all a secret on it (exit 66), so a
// delivery that passed one in argv fails.
const KibanaKeystore = `#!/bin/sh
store="$(dirname "$0")/../kibana.keystore"
for a in "$@"; do case "$a" in AAEAA*) echo "kibana-keystore: a secret on the command line" >&2; exit 66;; esac; done
case "$1" in
create) : > "$store" ;;
add)
  if [ $# -ne 4 ] || [ "$1 $2 $3" != "add --stdin --force" ]; then echo "usage: add --stdin --force SETTING" >&2; exit 64; fi
  if [ ! -f "$store" ]; then echo "ERROR: Kibana keystore not found. Use 'create' command to create one."; exit 0; fi
  value=$(cat)
  { grep -v "^$4=" "$store" 2>/dev/null; printf '%s=%s\n' "$4" "$value"; } > "$store.new" && mv "$store.new" "$store" ;;
list) if [ -f "$store" ]; then cut -d= -f1 "$store"; else echo "ERROR: Kibana keystore not found. Use 'create' command to create one."; fi ;;
*) echo "usage: add|list" >&2; exit 64 ;;
esac
`
