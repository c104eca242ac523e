package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Scopes of a credentials answer.
const (
	// ScopeCluster: 7.15+, every node reports its loaded file tokens.
	ScopeCluster = "cluster"
	// ScopeAnsweringNode: 7.13 and 7.14 report the answering node only.
	ScopeAnsweringNode = "answering-node"
)

// Credentials is one service account's file tokens as the cluster reports
// them: token name (not qualified) -> names of the nodes holding it.
type Credentials struct {
	Scope         string
	AnsweringNode string // ScopeAnsweringNode only
	Total         int    // nodes asked
	Failed        int    // nodes that did not answer
	Failures      []string
	FileTokens    map[string][]string
}

// credentialsAnswer covers both documented shapes (spec §6).
type credentialsAnswer struct {
	ServiceAccount string `json:"service_account"`
	// 7.13–7.14
	NodeName   *string          `json:"node_name"`
	FileTokens map[string]json0 `json:"file_tokens"`
	Nodes      *struct {
		Header struct {
			Total      int `json:"total"`
			Successful int `json:"successful"`
			Failed     int `json:"failed"`
			Failures   []struct {
				NodeID string `json:"node_id"`
				Reason struct {
					Reason string `json:"reason"`
				} `json:"reason"`
			} `json:"failures"`
		} `json:"_nodes"`
		FileTokens map[string]struct {
			Nodes []string `json:"nodes"`
		} `json:"file_tokens"`
	} `json:"nodes_credentials"`
}

type json0 struct{}

// Credentials asks GET /_security/service/<ns>/<svc>/credential.
func (c *Client) Credentials(ctx context.Context, principal string) (Credentials, error) {
	ns, svc, ok := strings.Cut(principal, "/")
	if !ok {
		return Credentials{}, fmt.Errorf("%q is not namespace/service", safetext.Input(principal))
	}
	var a credentialsAnswer
	where, err := c.do(ctx, esapi.SecurityGetServiceCredentialsRequest{Namespace: url.PathEscape(ns), Service: url.PathEscape(svc)}, &a)
	if err != nil {
		return Credentials{}, err
	}
	cr := Credentials{FileTokens: map[string][]string{}}
	switch {
	case a.Nodes != nil:
		cr.Scope = ScopeCluster
		cr.Total, cr.Failed = a.Nodes.Header.Total, a.Nodes.Header.Failed
		for _, f := range a.Nodes.Header.Failures {
			cr.Failures = append(cr.Failures, f.NodeID+": "+f.Reason.Reason)
		}
		for name, t := range a.Nodes.FileTokens {
			nodes := append([]string(nil), t.Nodes...)
			sort.Strings(nodes)
			cr.FileTokens[name] = nodes
		}
	case a.NodeName != nil:
		cr.Scope, cr.AnsweringNode, cr.Total = ScopeAnsweringNode, *a.NodeName, 1
		for name := range a.FileTokens {
			cr.FileTokens[name] = []string{*a.NodeName}
		}
	default:
		return cr, &Error{URL: where, Status: 200, Msg: remedy.Text("the credentials answer has neither nodes_credentials (7.15+) nor node_name (7.13-7.14): is this Elasticsearch?")}
	}
	return cr, nil
}

// Nodes lists the names of the cluster's nodes (GET /_nodes).
func (c *Client) Nodes(ctx context.Context) ([]string, error) {
	var a struct {
		Nodes map[string]struct {
			Name string `json:"name"`
		} `json:"nodes"`
	}
	where, err := c.do(ctx, esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"_none"}, FilterPath: []string{"nodes.*.name"}}, &a)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range a.Nodes {
		names = append(names, n.Name)
	}
	if len(names) == 0 {
		return nil, &Error{URL: where, Status: 200, Msg: remedy.Text("GET /_nodes listed no nodes")}
	}
	sort.Strings(names)
	return names, nil
}

// authAnswer is what _authenticate says, and where it was said.
type authAnswer struct {
	Username string `json:"username"`
	Realm    struct {
		Name string `json:"name"`
	} `json:"authentication_realm"`
	Token *struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"token"`
	where string
}

// authenticate asks GET /_security/_authenticate with the client's
// credentials (a bearer token, for Authenticate and ProveSecret).
func (c *Client) authenticate(ctx context.Context) (authAnswer, error) {
	var a authAnswer
	where, err := c.do(ctx, esapi.SecurityAuthenticateRequest{}, &a)
	a.where = where
	return a, err
}

// Authentication is what _authenticate says about a token.
type Authentication struct {
	URL       string // the address that answered
	Node      string // its node name, when known
	Username  string
	Realm     string
	TokenName string
	TokenType string
}

// Authenticate sends bearer to GET /_security/_authenticate at the
// configured addresses, and nowhere else. A refused token is an *Error
// with Status 401. When admin is not nil it names the node that answered
// (GET / with the admin credentials, at the same address).
func Authenticate(ctx context.Context, cfg Config, bearer string, admin bool) (Authentication, error) {
	tc, err := newClient(cfg, bearer)
	if err != nil {
		return Authentication{}, err
	}
	defer tc.closeIdle()
	a, err := tc.authenticate(ctx)
	res := Authentication{URL: a.where}
	var ee *Error
	if errors.As(err, &ee) && ee.Status == 401 {
		ee.Msg = remedy.Text("the token was refused")
		return res, err
	}
	if err != nil {
		return res, err
	}
	res.Username, res.Realm = a.Username, a.Realm.Name
	if a.Token != nil {
		res.TokenName, res.TokenType = a.Token.Name, a.Token.Type
	}
	if admin {
		one := cfg
		one.URLs = []string{a.where}
		if ac, err := New(one); err == nil {
			var root struct {
				Name string `json:"name"`
			}
			nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := ac.do(nctx, esapi.InfoRequest{}, &root); err == nil {
				res.Node = root.Name
			}
			cancel()
		}
	}
	return res, nil
}
