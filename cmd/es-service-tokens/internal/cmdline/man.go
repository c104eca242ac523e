package cmdline

import (
	"fmt"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"
)

// manExtra are the man page sections that no flag or command carries.
// Kept short: docs/ has the details.
const manExtra = `
# EXIT STATUS

0 success; 1 a verify, push or check result (a node failed, drift, an invalid token);
2 check could not reach a node; 64 usage; 65 a malformed service_tokens file;
67 an unknown service account; 70 an invalid or existing token name;
73 a file that must be new exists; 74 an I/O error (including an audit log that cannot
be opened); 78 a configuration or inventory error.

# ENVIRONMENT

**ES_PATH_CONF**, **ES_HOME**: where the local service_tokens file is, as for Elasticsearch.
**ES_API_KEY**, else **ES_USERNAME** and **ES_PASSWORD**: the cluster's credentials when the
inventory names no api_key_file or password_file.
**SSH_AUTH_SOCK**: the ssh-agent used for node logins. **SUDO_USER**: recorded in the audit trail.
**ANSIBLE_CONFIG**, **ANSIBLE_VAULT_PASSWORD_FILE**: read as Ansible reads them, for an Ansible inventory.
**XDG_STATE_HOME**: where rotate keeps a new token's secret until it is delivered (default ~/.local/state).

# FILES

**$ES_PATH_CONF/service_tokens**: the file Elasticsearch reads.
**service_tokens.meta** beside it: each token's metadata (created, by whom, comment, consumers,
rotation); never pushed, never a secret. See docs/metadata.md.
**$XDG_STATE_HOME/es-service-tokens/pending-*.bearer**: the secret of a rotation's new token, mode
0600, until it is delivered or handed over.
**~/.ssh/config**, **~/.ssh/known_hosts**: honoured for node connections; host keys are always verified.
**/usr/share/doc/es-service-tokens/docs/**: the reference (inventories, output, exit codes, security).
**/usr/share/doc/es-service-tokens/examples/**: example inventories.

# AUDIT TRAIL

Every create, delete, push, pull, deliver and rotate writes one record per run: to syslog (facility authpriv,
tag es-service-tokens) when the local syslog socket exists (/dev/log; /var/run/syslog on
macOS), and as one JSON line to the file named by
**--audit-log** or the inventory's **audit_log**. Records name tokens, never secrets or hashes.

# SCHEDULED CHECK

The .deb and .rpm install **es-service-tokens-check.timer**, disabled. Name the inventory in
**/etc/es-service-tokens/check.conf** (INVENTORY, TEXTFILE, CHECK_OPTIONS), give the system user
**es-service-tokens** an SSH key and known_hosts in /var/lib/es-service-tokens/.ssh, then run
**systemctl enable --now es-service-tokens-check.timer**: every 15 minutes **check** writes its
metrics to TEXTFILE (node_exporter's textfile directory) and its report to the journal
(**journalctl -u es-service-tokens-check**). See docs/scheduled-check.md.

# SEE ALSO

**ssh_config**(5), **elasticsearch-service-tokens** (Elasticsearch's own tool)
`

// ManPage is the manual page of app, rendered from the same command
// definitions as --help (urfave/cli's Markdown, then go-md2man, the
// renderer urfave/cli's ToMan uses), so the two cannot drift apart.
func ManPage(app *cli.App) (string, error) {
	for _, cmd := range app.Commands {
		// urfave/cli's page shows UsageText, not Description: give each
		// command its usage line, exit codes and example there.
		usage := strings.TrimSpace(app.Name + " [options] " + cmd.Name + " " + cmd.ArgsUsage)
		cmd.UsageText = usage + "\n\n" + cmd.Description
	}
	md, err := app.ToMarkdown()
	if err != nil {
		return "", fmt.Errorf("man page: %w", err)
	}
	// Commands are subsections of COMMANDS (.SS), not sections of their own.
	md = strings.ReplaceAll(md, "\n## ", "\n### ")
	return string(md2man.Render([]byte("% " + app.Name + " 1\n\n" + md + manExtra))), nil
}
