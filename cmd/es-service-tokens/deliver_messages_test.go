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
}

func init() {
	for k, v := range deliverRemedies {
		remedies[k] = v
	}
}
