package main

// deliverRemedies are the messages of consumers, delivery and proof by
// secret (issue 18), in their own table so that their entries do not
// collide with the other tables' edits.
var deliverRemedies = map[string]string{
	"%q is not namespace/service/name (e.g. elastic/kibana/kibana-1)":                                                         "e.g. elastic/kibana/kibana-1",
	"false: to deliver otherwise, remove kibana_keystore and set file, env_file or command":                                   "set file, env_file or command",
	"%q is neither true (the package's %s) nor an absolute path to kibana-keystore":                                           "absolute path to kibana-keystore",
	"%q is not a Kibana setting name (letters, digits, '.', '_', '-'), e.g. %s":                                               "letters, digits",
	"%q is not a variable name (letters, digits and '_', not starting with a digit)":                                          "letters, digits",
	"is empty: give a shell command":                                                                                          "give a shell command",
	"mode %04o lets every user on the consumer's machine at the secret; use \"0600\" or \"0640\"":                             "use \"0600\"",
	"%s: unknown placeholder %s; use {host} (the address SSH dials) or {name} (the inventory name), e.g. https://{host}:9200": "use {host}",
	"%s is not an http(s)://host:port address without credentials, e.g. https://{host}:9200":                                  "e.g. https://{host}:9200",
	// sync/deliver: what a consumer's store refused or could not do.
	"environment file": internal, // errEnvFile, the kind of the two below
	"%w: %s is assigned on lines %d and %d: keep one, then deliver again":                                                    "keep one",
	"%w: line %d assigns %s and continues on the next line (a trailing backslash): write it on one line, then deliver again": "write it on one line",
	"still running when the time ran out":                                                                                    part, // "health: no success in 60s (...; last: ...)"
	"unknown delivery method %q":                                                                                             internal,
	"%s add exited 0 but %s list does not show %s: is there a keystore (kibana-keystore create)?":                            "kibana-keystore create",
	"`sudo -n %s %s` failed: %s; allow it without a password (sudoers: %s ALL=(root) NOPASSWD: %s) or log in as root":        "allow it without a password",
	"%s changed while it was being written; not replaced: deliver again":                                                     "deliver again",
	"%w; whether %s was replaced is unknown":                                                                                 part, // says what is known after a lost connection
	"%w; %s is unchanged":                                                                                                    part,
	"read-back of %s: %s":                                                                                                    part, // what differs; the store step's caller says what is where
	"%s has mode %04o: every user of the machine could read the secret; set the consumer's mode (e.g. \"0640\"), then deliver again": "set the consumer's mode",
	// cmd: create --deliver and deliver.
	"standard input holds no service token (%v): give the bearer token create printed or wrote to its token file": "give the bearer token",
	"no consumer in %s uses %s: add one under consumers: with token: %s":                                          "add one under consumers:",
	"no consumer in %s uses %s: add one under consumers: with token: %s, or leave out --deliver":                  "add one under consumers:",
	"--consumer %s: not a consumer of %s; its consumers: %s":                                                      "its consumers:",
	"cannot remove [%s] from %s again (%v): nobody holds its secret; delete [%s] by hand":                         "delete [%s] by hand",
	"--confirm-timeout needs --all-nodes: a single check asks once":                                               "needs --all-nodes",
	"no node of %s has an address: set elasticsearch.node_url (e.g. https://{host}:9200) or es_http_url per node": "set elasticsearch.node_url",
}

func init() {
	for k, v := range deliverRemedies {
		remedies[k] = v
	}
}
