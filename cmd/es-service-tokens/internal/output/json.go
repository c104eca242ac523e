// The JSON documents the commands print with --format json
// (docs/output.md describes them): the wire format is defined here, in the
// command.
package output

import (
	"fmt"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/sync/rotation"
)

// checkReport is check's JSON document (see docs/output.md).
type checkReport struct {
	Command   string           `json:"command"`
	File      string           `json:"file"`
	SHA256    string           `json:"sha256"`
	CheckedAt time.Time        `json:"checked_at"`
	Seconds   float64          `json:"seconds"`
	Nodes     []checkNodeJSON  `json:"nodes"`
	Summary   checkSummaryJSON `json:"summary"`
	// Elasticsearch is the cluster's view (issue 9), when configured.
	Elasticsearch      *coverageJSON `json:"elasticsearch,omitempty"`
	ElasticsearchError string        `json:"elasticsearch_error,omitempty"`
	// TokenAges are the local tokens' ages against max_token_age.
	TokenAges *agesJSON `json:"token_ages,omitempty"`
}

// agesJSON is check's "token_ages" object.
type agesJSON struct {
	MaxAge        string    `json:"max_age,omitempty"`
	MaxAgeSeconds int64     `json:"max_age_seconds,omitempty"`
	MetadataFile  string    `json:"metadata_file"`
	Tokens        []ageJSON `json:"tokens"`
	Unknown       []string  `json:"unknown"`
	Error         string    `json:"error,omitempty"`
}

type ageJSON struct {
	Token      string `json:"token"`
	AgeSeconds int64  `json:"age_seconds"`
	OverMaxAge bool   `json:"over_max_age"`
	Rotate     string `json:"rotate,omitempty"`
}

// checkNodeJSON is one node of check's report (check.Result).
type checkNodeJSON struct {
	Node        string           `json:"name"`
	Host        string           `json:"host"`
	Port        int              `json:"port"`
	State       check.State      `json:"state"`
	Differences []differenceJSON `json:"differences"`
	Seen        attributesJSON   `json:"seen"`
	Expected    attributesJSON   `json:"expected"`
	Failure     failure.Kind     `json:"failure,omitempty"`
	Reason      string           `json:"reason,omitempty"` // "KIND: message"
	Seconds     float64          `json:"seconds"`
	Attempts    int              `json:"attempts"`
}

// differenceJSON is a check.Difference: token names, never hashes.
type differenceJSON struct {
	What          string   `json:"what"`
	Seen          string   `json:"seen,omitempty"`
	Expected      string   `json:"expected,omitempty"`
	MissingOnNode []string `json:"missing_on_node,omitempty"`
	ExtraOnNode   []string `json:"extra_on_node,omitempty"`
	HashDiffers   []string `json:"hash_differs,omitempty"`
	Detail        string   `json:"detail,omitempty"`
	Unloadable    bool     `json:"unloadable,omitempty"`
}

// attributesJSON is a check.Attributes.
type attributesJSON struct {
	SHA256 string `json:"sha256,omitempty"`
	Owner  string `json:"owner,omitempty"`
	Group  string `json:"group,omitempty"`
	Mode   string `json:"mode,omitempty"`
}

// checkSummaryJSON is a check.Summary.
type checkSummaryJSON struct {
	Total      int `json:"total"`
	InSync     int `json:"in_sync"`
	Drifted    int `json:"drifted"`
	Failed     int `json:"failed"`
	Unloadable int `json:"unloadable"`
}

// coverageJSON is check's "elasticsearch" object (elastic.Coverage).
type coverageJSON struct {
	URL           string             `json:"url"`
	Scope         string             `json:"scope"`
	AnsweringNode string             `json:"answering_node,omitempty"`
	Nodes         []coverageNodeJSON `json:"nodes"`
	FailedNodes   int                `json:"failed_nodes"`
	Drift         bool               `json:"drift"`
	Requests      int                `json:"requests"`
	Seconds       float64            `json:"seconds"`
	Unjudged      []string           `json:"unjudged,omitempty"`
	Unnamed       []string           `json:"unnamed,omitempty"`
}

// coverageNodeJSON is an elastic.CoverageNode.
type coverageNodeJSON struct {
	Node          string   `json:"node"`
	InventoryNode string   `json:"inventory_node,omitempty"`
	InInventory   bool     `json:"in_inventory"`
	InCluster     bool     `json:"in_cluster"`
	Missing       []string `json:"missing"`
	Extra         []string `json:"extra"`
}

// checkJSON is check's document for what it found.
func checkJSON(f Checked) checkReport {
	rep := checkReport{Command: "check", File: f.File, SHA256: f.SHA256, CheckedAt: f.CheckedAt, Seconds: f.Seconds,
		Nodes: each(f.Results, checkNodeOf), Summary: checkSummaryJSON(f.Summary)}
	if f.Coverage != nil {
		rep.Elasticsearch = &coverageJSON{URL: f.Coverage.URL, Scope: f.Coverage.Scope, AnsweringNode: f.Coverage.AnsweringNode,
			Nodes:       each(f.Coverage.Nodes, func(n elastic.CoverageNode) coverageNodeJSON { return coverageNodeJSON(n) }),
			FailedNodes: f.Coverage.FailedNodes, Drift: f.Coverage.Drift, Requests: f.Coverage.Requests, Seconds: f.Coverage.Seconds,
			Unjudged: f.Coverage.Unjudged, Unnamed: f.Coverage.Unnamed}
	}
	if f.CoverageErr != nil {
		rep.ElasticsearchError = Phrase(f.CoverageErr)
	}
	rep.TokenAges = agesJSONOf(f.Ages)
	return rep
}

func checkNodeOf(r check.Result) checkNodeJSON {
	return checkNodeJSON{Node: r.Node, Host: r.Host, Port: r.Port, State: r.State,
		Differences: each(r.Differences, func(d check.Difference) differenceJSON { return differenceJSON(d) }),
		Seen:        attributesJSON(r.Seen), Expected: attributesJSON(r.Expected),
		Failure: r.Failure, Reason: Phrased(r.Reason), Seconds: r.Seconds, Attempts: r.Attempts}
}

// each converts a slice, keeping nil as nil (null in JSON) and empty as
// empty ([]), as the documents always have.
func each[T, W any](xs []T, f func(T) W) []W {
	if xs == nil {
		return nil
	}
	out := make([]W, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// NodeView is one node in nodes' JSON output.
type NodeView struct {
	Name string `json:"name"`
	connectionView
	Path       string            `json:"path"`
	Owner      string            `json:"owner"`
	Group      string            `json:"group"`
	Mode       string            `json:"mode"`
	Sudo       bool              `json:"sudo"`
	SFTPServer string            `json:"sftp_server"`
	Backups    int               `json:"backups"`
	Groups     []string          `json:"groups"`
	Origin     map[string]string `json:"origin"`
	// Added after origin so that the fields before keep their order.
	GlobalKnownHosts    []string `json:"global_known_hosts"`
	IdentitiesOnly      bool     `json:"identities_only"`
	ServerAliveInterval float64  `json:"server_alive_interval_seconds"`
	ServerAliveCountMax int      `json:"server_alive_count_max"`
	// ESNodeName is es_node_name, "" when the name is to be read from the
	// node (node.name in its elasticsearch.yml, else its hostname).
	ESNodeName string `json:"es_node_name"`
	// ProxyProgram is the program of the node's ProxyCommand, "" without
	// one; its arguments are never shown, they may hold a secret.
	ProxyProgram string `json:"proxy_command_program,omitempty"`
	// CertificateFiles are the user certificates configured; none means
	// KEY-cert.pub beside each identity file, when there is one.
	CertificateFiles []string `json:"certificate_files"`
	// HTTPURL is the node's own REST address, where a secret is proven.
	HTTPURL string `json:"es_http_url,omitempty"`
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
	// NodeURL is the template of each node's own address.
	NodeURL string `json:"node_url,omitempty"`
}

func viewES(e *inventory.Elasticsearch) *esView {
	if e == nil {
		return nil
	}
	return &esView{URLs: e.URLs, CA: e.CA, CAFingerprint: e.CAFingerprint, APIKeyFile: e.APIKeyFile,
		Username: e.Username, PasswordFile: e.PasswordFile, ConfirmTimeout: e.ConfirmTimeout.Seconds(), Origin: e.Origin, NodeURL: e.NodeURL}
}

func view(n *inventory.Node) NodeView {
	v := NodeView{
		Name: n.Name, connectionView: viewConnection(n), Path: n.Path, Owner: n.Owner, Group: n.Group, Mode: fmt.Sprintf("%04o", n.Mode),
		Sudo: n.Sudo, SFTPServer: n.SFTPServer, Backups: n.Backups, Groups: n.Groups, Origin: n.Origin,
		GlobalKnownHosts: append([]string{}, n.GlobalKnownHostsFiles...), IdentitiesOnly: n.IdentitiesOnly,
		ServerAliveInterval: n.ServerAliveInterval.Seconds(), ServerAliveCountMax: n.ServerAliveCountMax,
		ESNodeName: n.ESNodeName, HTTPURL: n.HTTPURL,
	}
	if n.ProxyCommand != "" {
		v.ProxyProgram = n.ProxyProgram()
	}
	v.CertificateFiles = append([]string{}, n.CertificateFiles...)
	if v.Groups == nil {
		v.Groups = []string{}
	}
	return v
}

// connectionView is how a node or a consumer is reached, in nodes' output.
type connectionView struct {
	Host           string   `json:"host"`
	Port           int      `json:"port"`
	User           string   `json:"user"`
	IdentityFiles  []string `json:"identity_files"`
	KnownHosts     []string `json:"known_hosts"`
	HostKeyCheck   string   `json:"host_key_check"`
	ConnectTimeout float64  `json:"connect_timeout_seconds"`
	Jump           []string `json:"jump"`
}

func viewConnection(n *inventory.Node) connectionView {
	v := connectionView{Host: n.Host, Port: n.Port, User: n.User, IdentityFiles: append([]string{}, n.IdentityFiles...),
		KnownHosts: n.KnownHostsFiles, HostKeyCheck: n.HostKeyCheck, ConnectTimeout: n.ConnectTimeout.Seconds(), Jump: []string{}}
	for _, h := range n.Jump {
		v.Jump = append(v.Jump, h.User+"@"+h.Address())
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
	Nodes   []pushNodeJSON `json:"nodes"`
	Summary map[string]int `json:"summary"`
	// StillAccepted: nodes where tokens this push removes still work, and
	// Finish, the command that completes the revocation.
	StillAccepted []unrevokedJSON `json:"still_accepted,omitempty"`
	Finish        string          `json:"finish,omitempty"`
	// Gates and Elasticsearch: gated rollout and confirmation (issue 9).
	Gates         []gateJSON        `json:"gates,omitempty"`
	Elasticsearch *confirmationJSON `json:"elasticsearch,omitempty"`
	// SecretProof: create's proof by secret on each node's own address.
	SecretProof *proofJSON `json:"secret_proof,omitempty"`
	// Undone: a create's or delete's change every node refused, taken
	// back out of the local file; Remedies: the commands that clear the
	// way, each for the state it names.
	Undone   string   `json:"undone,omitempty"`
	Remedies []string `json:"remedies,omitempty"`
}

// pushNodeJSON is one node of push's report (push.Result).
type pushNodeJSON struct {
	Node     string       `json:"name"`
	Host     string       `json:"host"`
	Port     int          `json:"port"`
	Status   push.Status  `json:"result"`
	SHA256   string       `json:"sha256,omitempty"` // the node's file at the end
	Owner    string       `json:"owner,omitempty"`
	Group    string       `json:"group,omitempty"`
	Mode     string       `json:"mode,omitempty"`
	Seconds  float64      `json:"seconds"`
	Failure  failure.Kind `json:"failure,omitempty"` // for failed and conflict
	Reason   string       `json:"reason,omitempty"`
	Notes    []string     `json:"notes,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	Changes  *diffJSON    `json:"changes,omitempty"` // token names, never hashes
	Attempts int          `json:"attempts"`
}

// diffJSON is a tokens.Diff.
type diffJSON struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// unrevokedJSON is a push.Unrevoked.
type unrevokedJSON struct {
	Node    string      `json:"node"`
	Tokens  []string    `json:"tokens"`
	Status  push.Status `json:"result"`
	Failure string      `json:"failure,omitempty"`
}

// gateJSON is a rollout.Gate.
type gateJSON struct {
	Batch  int      `json:"batch"`
	Nodes  []string `json:"nodes"`
	Passed bool     `json:"passed"`
	Reason string   `json:"reason,omitempty"`
}

// confirmationJSON is the "elasticsearch" object of push, create and
// delete (rollout.Confirmation).
type confirmationJSON struct {
	*outcomeJSON
}

// outcomeJSON is an elastic.Outcome.
type outcomeJSON struct {
	URL           string          `json:"url"`
	Confirmed     bool            `json:"confirmed"`
	Seconds       float64         `json:"seconds"`
	Requests      int             `json:"requests"`
	Scope         string          `json:"scope,omitempty"`
	AnsweringNode string          `json:"answering_node,omitempty"`
	Want          wantJSON        `json:"want"`
	Nodes         []nodeStateJSON `json:"nodes"`
	FailedNodes   int             `json:"failed_nodes"`
	Error         string          `json:"error,omitempty"`
	Status        int             `json:"status,omitempty"`
}

// wantJSON is an elastic.Want: what the run changed (present, absent),
// and how many tokens the local file has, which every node must list
// exactly.
type wantJSON struct {
	Present     []string `json:"present"`
	Absent      []string `json:"absent"`
	LocalTokens *int     `json:"local_tokens,omitempty"`
}

func wantOf(w elastic.Want) wantJSON {
	out := wantJSON{Present: w.Present, Absent: w.Absent}
	if w.File != nil {
		n := len(w.File)
		out.LocalTokens = &n
	}
	return out
}

// nodeStateJSON is an elastic.NodeState.
type nodeStateJSON struct {
	Node          string   `json:"node"`
	InventoryNode string   `json:"inventory_node,omitempty"`
	Confirmed     bool     `json:"confirmed"`
	Lacks         []string `json:"lacks,omitempty"`
	StillHolds    []string `json:"still_holds,omitempty"`
	Cause         string   `json:"cause,omitempty"`
}

func nodeStateOf(n elastic.NodeState) nodeStateJSON {
	return nodeStateJSON{Node: n.Node, InventoryNode: n.InventoryNode, Confirmed: n.Confirmed, Lacks: n.Lacks,
		StillHolds: n.StillHolds, Cause: Phrased(n.Cause)}
}

// pushJSON is push's document for a report.
func pushJSON(file string, req push.Request, rep push.Report, finish string, proof *prove.Report) pushReport {
	summary := map[string]int{"total": len(rep.Results)}
	for s, n := range rep.Count() {
		summary[string(s)] = n
	}
	for _, s := range push.Statuses {
		summary[string(s)] += 0
	}
	return pushReport{"push", file, digest.SHA256(req.Data), req.Local.Len(), req.DryRun, each(rep.Results, pushNodeOf), summary,
		each(rep.StillAccepted, unrevokedOf), finish, each(rep.Gates, gateOf), confirmationOf(rep.ES), proofOf(proof), "", nil}
}

func pushNodeOf(r push.Result) pushNodeJSON {
	n := pushNodeJSON{Node: r.Node, Host: r.Host, Port: r.Port, Status: r.Status, SHA256: r.SHA256,
		Owner: r.Owner, Group: r.Group, Mode: r.Mode, Seconds: r.Seconds, Failure: r.Failure, Reason: Phrased(r.Reason),
		Notes: each(r.Notes, Phrased), Warnings: r.Warnings, Attempts: r.Attempts}
	if r.Changes != nil {
		d := diffJSON(*r.Changes)
		n.Changes = &d
	}
	return n
}

func unrevokedOf(u push.Unrevoked) unrevokedJSON { return unrevokedJSON(u) }

func gateOf(g rollout.Gate) gateJSON { return gateJSON(g) }

func confirmationOf(c *rollout.Confirmation) *confirmationJSON {
	if c == nil {
		return nil
	}
	out := &confirmationJSON{}
	if o := c.Outcome; o != nil {
		out.outcomeJSON = &outcomeJSON{URL: o.URL, Confirmed: o.Confirmed, Seconds: o.Seconds, Requests: o.Requests,
			Scope: o.Scope, AnsweringNode: o.AnsweringNode, Want: wantOf(o.Want),
			Nodes: each(o.Nodes, nodeStateOf), FailedNodes: o.FailedNodes, Error: Phrased(o.Error), Status: o.Status}
	}
	return out
}

// liveResult is verify's "elasticsearch" object.
type liveResult struct {
	Valid bool `json:"valid"`
	*authenticationJSON
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// authenticationJSON is an elastic.Authentication.
type authenticationJSON struct {
	URL       string `json:"url"`  // the address that answered
	Node      string `json:"node"` // its node name, when known
	Username  string `json:"username"`
	Realm     string `json:"realm"`
	TokenName string `json:"token_name"`
	TokenType string `json:"token_type"`
}

// stepsJSON is one node's step timings (-v with --format json).
type stepsJSON struct {
	Node  string     `json:"node"`
	Steps []stepJSON `json:"steps"`
}

// stepJSON is a steps.Step.
type stepJSON struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// versionJSON is version's document (buildinfo.Info).
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Source   string `json:"source"`
}

// Created is the JSON document of create; its Token.Value is filled in
// by CreatedToken when the secret is printed.
type Created struct {
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
	// DeliverTo are the consumers create --deliver hands the secret to
	// (then value is left out).
	DeliverTo []string `json:"deliver_to,omitempty"`
}

// listEntry is one token in list's JSON output.
type listEntry struct {
	QualifiedName string `json:"qualified_name"`
	Principal     string `json:"principal"`
	Name          string `json:"name"`
	HashAlgorithm string `json:"hash_algorithm"`
}

// listLongEntry is one token in list --long's JSON output: list's fields,
// then its metadata. Recorded is false for a token made by another tool
// (Elasticsearch's CLI), whose other fields are then empty.
type listLongEntry struct {
	listEntry
	Recorded    bool     `json:"recorded"`
	Created     string   `json:"created,omitempty"`
	AgeSeconds  *int64   `json:"age_seconds,omitempty"`
	CreatedBy   string   `json:"created_by,omitempty"`
	Comment     string   `json:"comment,omitempty"`
	Consumers   []string `json:"consumers"`
	RotatedFrom string   `json:"rotated_from,omitempty"`
	RotatedTo   string   `json:"rotated_to,omitempty"`
	Rotation    string   `json:"rotation,omitempty"`
}

// verifyResult is verify's JSON document.
type verifyResult struct {
	Valid         bool   `json:"valid"`
	QualifiedName string `json:"qualified_name,omitempty"`
	Reason        string `json:"reason,omitempty"`
	File          string `json:"file,omitempty"`
	// Elasticsearch is the live check (verify --es-url), when configured.
	Elasticsearch *liveResult `json:"elasticsearch,omitempty"`
	// AllNodes is verify --all-nodes: the token sent to every node's own
	// address.
	AllNodes *proofJSON `json:"all_nodes,omitempty"`
}

// agesJSONOf is check's "token_ages"; nil when there is nothing to say (no maximum
// and no known age).
func agesJSONOf(a *Ages) *agesJSON {
	if a == nil || a.Max == 0 && len(a.Known) == 0 {
		return nil
	}
	j := &agesJSON{MaxAge: a.MaxText, MaxAgeSeconds: int64(a.Max / time.Second), MetadataFile: a.File, Tokens: []ageJSON{}, Unknown: []string{}}
	if a.MetaErr != nil {
		j.Error = a.MetaErr.Error()
	}
	over := map[string]bool{}
	for _, o := range a.Over {
		over[o.Token] = true
	}
	for _, k := range a.Known {
		j.Tokens = append(j.Tokens, ageJSON{k.Token, int64(k.Age / time.Second), over[k.Token], a.Rotate[k.Token]})
	}
	j.Unknown = append(j.Unknown, a.Unknown...)
	return j
}

// rotateReport is rotate's JSON document: one rotation per token rotated
// (one, or several with --older-than).
type rotateReport struct {
	Command   string         `json:"command"`
	File      string         `json:"file"`
	Rotations []rotationJSON `json:"rotations"`
}

// rotationJSON is one rotation: the token, its successor, how it ended,
// each step with its time, and the command that takes it on (next).
type rotationJSON struct {
	Token   string             `json:"token"`
	New     string             `json:"successor,omitempty"`
	Outcome string             `json:"outcome"`
	Resumed bool               `json:"resumed"`
	Found   string             `json:"found_phase,omitempty"`
	Seconds float64            `json:"seconds"`
	Steps   []rotationStepJSON `json:"steps"`
	Error   string             `json:"error,omitempty"`
	Next    string             `json:"next,omitempty"`
	// Value is the successor's bearer, handed over on stdout when the
	// token has no consumers and no --token-file was given.
	Value string `json:"value,omitempty"`
}

// rotationStepJSON is a rotate.StepResult with what the step found.
type rotationStepJSON struct {
	Step          string            `json:"step"`
	OK            bool              `json:"ok"`
	Seconds       float64           `json:"seconds"`
	Error         string            `json:"error,omitempty"`
	Nodes         []pushNodeJSON    `json:"nodes,omitempty"`
	SecretProof   *proofJSON        `json:"secret_proof,omitempty"`
	Elasticsearch *confirmationJSON `json:"elasticsearch,omitempty"`
	Consumers     []consumerJSON    `json:"consumers,omitempty"`
	TokenFile     string            `json:"token_file,omitempty"`
}

func stepJSONOf(st rotate.StepResult, d rotation.Detail) rotationStepJSON {
	j := rotationStepJSON{Step: string(st.Step), OK: st.Err == nil, Seconds: st.Seconds, TokenFile: d.TokenFile,
		SecretProof: proofOf(d.Proof)}
	if d.Push != nil {
		j.Nodes = each(d.Push.Results, pushNodeOf)
	}
	if st.Err != nil {
		j.Error = Phrase(st.Err)
	}
	if d.Listed != nil {
		j.Elasticsearch = confirmationOf(&rollout.Confirmation{Outcome: d.Listed})
	}
	if d.Delivery != nil {
		j.Consumers = each(d.Delivery.Results, consumerOf)
	}
	return j
}
