package main

// The JSON documents the commands print with --format json
// (docs/output.md describes them): the wire format is defined here, in the
// command.

import (
	"fmt"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
)

// checkReport is check's JSON document (see docs/output.md).
type checkReport struct {
	Command   string         `json:"command"`
	File      string         `json:"file"`
	SHA256    string         `json:"sha256"`
	CheckedAt time.Time      `json:"checked_at"`
	Seconds   float64        `json:"seconds"`
	Nodes     []check.Result `json:"nodes"`
	Summary   check.Summary  `json:"summary"`
	// Elasticsearch is the cluster's view (issue 9), when configured.
	Elasticsearch      *elastic.Coverage `json:"elasticsearch,omitempty"`
	ElasticsearchError string            `json:"elasticsearch_error,omitempty"`
}

// nodeView is one node in nodes' JSON output.
type nodeView struct {
	Name           string            `json:"name"`
	Host           string            `json:"host"`
	Port           int               `json:"port"`
	User           string            `json:"user"`
	IdentityFiles  []string          `json:"identity_files"`
	KnownHosts     []string          `json:"known_hosts"`
	HostKeyCheck   string            `json:"host_key_check"`
	ConnectTimeout float64           `json:"connect_timeout_seconds"`
	Jump           []string          `json:"jump"`
	Path           string            `json:"path"`
	Owner          string            `json:"owner"`
	Group          string            `json:"group"`
	Mode           string            `json:"mode"`
	Sudo           bool              `json:"sudo"`
	SFTPServer     string            `json:"sftp_server"`
	Backups        int               `json:"backups"`
	Groups         []string          `json:"groups"`
	Origin         map[string]string `json:"origin"`
	// Added after origin so that the fields before keep their order.
	GlobalKnownHosts    []string `json:"global_known_hosts"`
	IdentitiesOnly      bool     `json:"identities_only"`
	ServerAliveInterval float64  `json:"server_alive_interval_seconds"`
	ServerAliveCountMax int      `json:"server_alive_count_max"`
	// ESNodeName is es_node_name, "" when the name is to be read from the
	// node (node.name in its elasticsearch.yml, else its hostname).
	ESNodeName string `json:"es_node_name"`
}

// esView is the inventory's elasticsearch section in nodes' output: where
// credentials come from, never the credentials.
type esView struct {
	URLs           []string `json:"urls"`
	CA             string   `json:"ca,omitempty"`
	CAFingerprint  string   `json:"ca_fingerprint,omitempty"`
	APIKeyFile     string   `json:"api_key_file,omitempty"`
	Username       string   `json:"username,omitempty"`
	PasswordFile   string   `json:"password_file,omitempty"`
	ConfirmTimeout float64  `json:"confirm_timeout_seconds,omitempty"`
	Origin         string   `json:"origin"`
}

func viewES(e *inventory.Elasticsearch) *esView {
	if e == nil {
		return nil
	}
	return &esView{URLs: e.URLs, CA: e.CA, CAFingerprint: e.CAFingerprint, APIKeyFile: e.APIKeyFile,
		Username: e.Username, PasswordFile: e.PasswordFile, ConfirmTimeout: e.ConfirmTimeout.Seconds(), Origin: e.Origin}
}

func view(n *inventory.Node) nodeView {
	v := nodeView{
		Name: n.Name, Host: n.Host, Port: n.Port, User: n.User, IdentityFiles: n.IdentityFiles,
		KnownHosts: n.KnownHostsFiles, HostKeyCheck: n.HostKeyCheck, ConnectTimeout: n.ConnectTimeout.Seconds(),
		Jump: []string{}, Path: n.Path, Owner: n.Owner, Group: n.Group, Mode: fmt.Sprintf("%04o", n.Mode),
		Sudo: n.Sudo, SFTPServer: n.SFTPServer, Backups: n.Backups, Groups: n.Groups, Origin: n.Origin,
		GlobalKnownHosts: append([]string{}, n.GlobalKnownHostsFiles...), IdentitiesOnly: n.IdentitiesOnly,
		ServerAliveInterval: n.ServerAliveInterval.Seconds(), ServerAliveCountMax: n.ServerAliveCountMax,
		ESNodeName: n.ESNodeName,
	}
	for _, h := range n.Jump {
		v.Jump = append(v.Jump, h.User+"@"+h.Address())
	}
	if v.IdentityFiles == nil {
		v.IdentityFiles = []string{}
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	return v
}

// pushReport is push's JSON document (see docs/output.md).
type pushReport struct {
	Command string         `json:"command"`
	File    string         `json:"file"`
	SHA256  string         `json:"sha256"`
	Tokens  int            `json:"tokens"`
	DryRun  bool           `json:"dry_run"`
	Nodes   []push.Result  `json:"nodes"`
	Summary map[string]int `json:"summary"`
	// StillAccepted: nodes where tokens this push removes still work, and
	// Finish, the command that completes the revocation.
	StillAccepted []push.Unrevoked `json:"still_accepted,omitempty"`
	Finish        string           `json:"finish,omitempty"`
	// Gates and Elasticsearch: gated rollout and confirmation (issue 9).
	Gates         []rollout.Gate        `json:"gates,omitempty"`
	Elasticsearch *rollout.Confirmation `json:"elasticsearch,omitempty"`
}

// liveResult is verify's "elasticsearch" object.
type liveResult struct {
	Valid bool `json:"valid"`
	*elastic.Authentication
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// createResult is the JSON document of create.
type createResult struct {
	Token struct {
		Principal     string `json:"principal"`
		Name          string `json:"name"`
		QualifiedName string `json:"qualified_name"`
		Value         string `json:"value,omitempty"`
	} `json:"token"`
	TokenFile string `json:"token_file,omitempty"`
	File      string `json:"file"`
	Algorithm string `json:"algorithm"`
	// Note names the Elasticsearch versions that know the account, when
	// not all do.
	Note string `json:"note,omitempty"`
}

// listEntry is one token in list's JSON output.
type listEntry struct {
	QualifiedName string `json:"qualified_name"`
	Principal     string `json:"principal"`
	Name          string `json:"name"`
	HashAlgorithm string `json:"hash_algorithm"`
}

// verifyResult is verify's JSON document.
type verifyResult struct {
	Valid         bool   `json:"valid"`
	QualifiedName string `json:"qualified_name,omitempty"`
	Reason        string `json:"reason,omitempty"`
	File          string `json:"file,omitempty"`
	// Elasticsearch is the live check (verify --es-url), when configured.
	Elasticsearch *liveResult `json:"elasticsearch,omitempty"`
}
