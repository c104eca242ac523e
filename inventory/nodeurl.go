package inventory

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// placeholderRE finds the {words} of a node_url template.
var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkNodeURLTemplate accepts a template whose only placeholders are
// {host} and {name} and that, filled in, is an http(s) address.
func checkNodeURLTemplate(t string) error {
	for _, p := range placeholderRE.FindAllString(t, -1) {
		if p != "{host}" && p != "{name}" {
			return fmt.Errorf("%s: unknown placeholder %s; use {host} (the address SSH dials) or {name} (the inventory name), e.g. https://{host}:9200", safetext.URL(t), safetext.Bounded(p))
		}
	}
	if err := checkHTTPURL(fillNodeURL(t, "127.0.0.1", "node")); err != nil {
		return fmt.Errorf("%s filled in: %v", safetext.URL(t), err)
	}
	return nil
}

// checkHTTPURL accepts an http(s)://host[:port] address without
// credentials: a bearer token is what goes there, nothing else.
func checkHTTPURL(s string) error {
	p, err := url.Parse(s)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return fmt.Errorf("%s is not an http(s)://host:port address without credentials, e.g. https://{host}:9200", safetext.URL(s))
	}
	return nil
}

// fillNodeURL puts a node's dial address and name into a template.
func fillNodeURL(t, host, name string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return strings.NewReplacer("{host}", host, "{name}", name).Replace(t)
}

// nodeURL reads es_http_url.
func nodeURL(s setting) (string, error) {
	if err := checkHTTPURL(s.value); err != nil {
		return "", err
	}
	return strings.TrimRight(s.value, "/"), nil
}

// fillNodeURLs gives every node without es_http_url the address the
// elasticsearch section's node_url template makes of it.
func fillNodeURLs(inv *Inventory) {
	es := inv.Elasticsearch
	if es == nil || es.NodeURL == "" {
		return
	}
	for _, n := range inv.Nodes {
		if n.HTTPURL != "" {
			continue
		}
		n.HTTPURL = strings.TrimRight(fillNodeURL(es.NodeURL, n.Host, n.Name), "/")
		n.Origin["es_http_url"] = "elasticsearch.node_url at " + es.NodeURLOrigin
	}
}
