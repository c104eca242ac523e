// Package elastic asks a cluster's REST API what its nodes have loaded:
// the service-account credentials API (which file tokens each node holds),
// the node list, and _authenticate for a live check of one token. It is
// what turns "the bytes are on every node" into "Elasticsearch accepts the
// token on every node".
//
// Every request is built by the official Go client's API package,
// github.com/elastic/go-elasticsearch/v8/esapi (the request types
// SecurityGetServiceCredentialsRequest, NodesInfoRequest,
// SecurityAuthenticateRequest and InfoRequest), and sent through the
// official client's transport, github.com/elastic/elastic-transport-go/v8
// (elastictransport), which brings TLS (CA or CA fingerprint), API key,
// basic auth and service token headers, the address list with its
// dead-connection pool, and retries. We do not go through
// elasticsearch.Client, on purpose:
//
//   - elasticsearch.Client.Perform adds "Accept:
//     application/vnd.elasticsearch+json;compatible-with=8" whenever
//     ELASTIC_CLIENT_APIVERSIONING=true is in the environment (or
//     EnableCompatibilityMode is set). 7.x rejects that media type, and a
//     stray variable in an admin's shell must not break a push. esapi
//     requests sent straight to the transport are plain JSON requests,
//     which 7.13 through 9.x all accept for the GET requests used here.
//   - elasticsearch.Client.Perform refuses any 2xx answer that lacks
//     "X-Elastic-Product: Elasticsearch". 7.13 does not send that header
//     (it came in 7.14), and 7.13's node-local answer is one we explain
//     rather than reject. We check the shape of each answer instead.
//   - The elasticsearch package links the typed API (thousands of
//     generated types) that this tool never uses: building it costs
//     minutes of compile time and megabytes of binary for nothing.
package elastic

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-service-tokens/es-service-tokens/internal/libtext"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// Config is a resolved connection: addresses, trust and credentials.
type Config struct {
	URLs          []string
	CACert        []byte // PEM
	CAFile        string // where CACert came from, for messages
	CAFingerprint string // SHA-256 hex
	APIKey        string
	Username      string
	Password      string
	// Auth says which credentials are used, for messages ("API key",
	// "user admin"), never the secret.
	Auth string
	// AllowHTTP permits http:// addresses (remedy.ESInsecureHTTP).
	AllowHTTP bool
	// ConfirmTimeout bounds a confirmation (0: DefaultConfirmTimeout).
	ConfirmTimeout time.Duration
}

// DefaultConfirmTimeout is long enough for Elasticsearch's default 5 s
// reload interval several times over.
const DefaultConfirmTimeout = 30 * time.Second

// Sources are where a Config may come from; earlier fields win over the
// inventory.
type Sources struct {
	Inventory    *inventory.Elasticsearch // may be nil
	URL          string                   // the caller's URL list (remedy.ESURL)
	CA           string                   // the caller's CA file (remedy.ESCA)
	InsecureHTTP bool                     // allow http:// (remedy.ESInsecureHTTP)
	Timeout      time.Duration            // the caller's confirm timeout (remedy.ConfirmTimeout)
	Getenv       func(string) string
	// CredentialsOptional resolves without credentials when none are
	// given (verify: the token is its own credential).
	CredentialsOptional bool
}

// ErrNotConfigured means neither the inventory nor the flags name a cluster.
var ErrNotConfigured = errors.New("elasticsearch is not configured")

// Resolve builds a Config from flags, the inventory and the environment.
// Credentials never come from the command line: the inventory's
// api_key_file or username + password_file, else ES_API_KEY, else
// ES_USERNAME + ES_PASSWORD.
func Resolve(s Sources) (Config, error) {
	var cfg Config
	inv := s.Inventory
	if inv == nil {
		inv = &inventory.Elasticsearch{}
	}
	if s.Getenv == nil {
		s.Getenv = os.Getenv
	}
	if err := cfg.resolveURLs(s, inv); err != nil {
		return cfg, err
	}
	if err := cfg.resolveCA(s, inv); err != nil {
		return cfg, err
	}
	if err := cfg.resolveCredentials(s, inv); err != nil {
		return cfg, err
	}
	cfg.ConfirmTimeout = inv.ConfirmTimeout
	if s.Timeout > 0 {
		cfg.ConfirmTimeout = s.Timeout
	}
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = DefaultConfirmTimeout
	}
	return cfg, nil
}

// resolveURLs takes the caller's URL over the inventory's url, and
// refuses plain http unless InsecureHTTP.
func (cfg *Config) resolveURLs(s Sources, inv *inventory.Elasticsearch) error {
	cfg.URLs = inv.URLs
	if s.URL != "" {
		cfg.URLs = strings.Split(s.URL, ",")
	}
	if len(cfg.URLs) == 0 {
		return ErrNotConfigured
	}
	for i, u := range cfg.URLs {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") || p.User != nil {
			return fmt.Errorf("elasticsearch URL %s: give https://host:port, without credentials (they come from the inventory's files or the environment)", safetext.URL(u))
		}
		if p.Scheme == "http" && !s.InsecureHTTP {
			return remedy.Errorf(remedy.ESInsecureHTTP, "elasticsearch URL %s is plain http: tokens and credentials would cross the network in clear; use https, or pass %v for a test cluster", u, remedy.ESInsecureHTTP)
		}
		cfg.URLs[i] = strings.TrimRight(strings.TrimSpace(u), "/")
	}
	cfg.AllowHTTP = s.InsecureHTTP
	return nil
}

// resolveCA takes the caller's CA over the inventory's ca or ca_fingerprint, and
// reads the PEM file.
func (cfg *Config) resolveCA(s Sources, inv *inventory.Elasticsearch) error {
	cfg.CAFile, cfg.CAFingerprint = inv.CA, inv.CAFingerprint
	if s.CA != "" {
		cfg.CAFile, cfg.CAFingerprint = s.CA, ""
	}
	if cfg.CAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return fmt.Errorf("elasticsearch CA %s: %w", cfg.CAFile, unwrapPath(err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("elasticsearch CA %s holds no PEM certificate", cfg.CAFile)
	}
	cfg.CACert = pem
	return nil
}

// resolveCredentials picks the first credentials given: the inventory's
// files, then the environment.
func (cfg *Config) resolveCredentials(s Sources, inv *inventory.Elasticsearch) error {
	var err error
	switch {
	case inv.APIKeyFile != "":
		cfg.APIKey, err = readSecret("api_key_file", inv.APIKeyFile)
		cfg.Auth = "the API key in " + inv.APIKeyFile
	case inv.Username != "":
		cfg.Username = inv.Username
		cfg.Password, err = readSecret("password_file", inv.PasswordFile)
		cfg.Auth = "user " + inv.Username
	case s.Getenv("ES_API_KEY") != "":
		cfg.APIKey, cfg.Auth = s.Getenv("ES_API_KEY"), "the API key in ES_API_KEY"
	case s.Getenv("ES_USERNAME") != "":
		cfg.Username, cfg.Password = s.Getenv("ES_USERNAME"), s.Getenv("ES_PASSWORD")
		cfg.Auth = "user " + cfg.Username + " (ES_USERNAME)"
		if cfg.Password == "" {
			err = errors.New("ES_USERNAME is set but ES_PASSWORD is not")
		}
	case s.CredentialsOptional:
	default:
		err = errors.New("no elasticsearch credentials: set elasticsearch.api_key_file (or username and password_file) in the inventory, or ES_API_KEY (or ES_USERNAME and ES_PASSWORD) in the environment")
	}
	return err
}

// readSecret reads a one-line secret file; the secret never appears in an
// error.
func readSecret(what, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("elasticsearch %s %s: %w", what, path, unwrapPath(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("elasticsearch %s %s is empty", what, path)
	}
	return v, nil
}

// maxRetries: a 502/503/504 or a dropped connection is tried twice more.
const maxRetries = 2

// Client talks to one cluster.
type Client struct {
	cfg       Config
	transport elastictransport.Interface
	http      *http.Transport
	requests  atomic.Int64
}

// closeIdle closes the connections a short-lived client keeps open.
func (c *Client) closeIdle() { c.http.CloseIdleConnections() }

// New makes a client; it does not connect yet.
func New(cfg Config) (*Client, error) {
	return newClient(cfg, "")
}

// newClient makes a client; bearer, when set, replaces the configured
// credentials (for _authenticate).
func newClient(cfg Config, bearer string) (*Client, error) {
	c := &Client{cfg: cfg}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 0 // each request carries its own deadline
	c.http = tr
	var urls []*url.URL
	for _, u := range cfg.URLs {
		p, err := url.Parse(u)
		if err != nil {
			// url.Error repeats the URL whole, password included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("elasticsearch URL %q: %w", safetext.Input(safetext.URL(u)), err)
		}
		urls = append(urls, p)
	}
	opts := []elastictransport.Option{
		elastictransport.WithURLs(urls...),
		elastictransport.WithTransport(tr),
		elastictransport.WithMaxRetries(maxRetries),
		elastictransport.WithRetryOnStatus(502, 503, 504),
		elastictransport.WithRetryOnError(retryable),
		elastictransport.WithRetryBackoff(func(attempt int) time.Duration {
			// The transport also calls this after its last attempt.
			if attempt > maxRetries {
				return 0
			}
			c.requests.Add(1) // each retry is one more request
			return time.Duration(attempt) * 100 * time.Millisecond
		}),
		elastictransport.WithSelector(ordered(cfg.URLs)),
	}
	if len(cfg.CACert) > 0 {
		opts = append(opts, elastictransport.WithCACert(cfg.CACert))
	}
	if cfg.CAFingerprint != "" {
		opts = append(opts, elastictransport.WithCertificateFingerprint(cfg.CAFingerprint))
	}
	switch {
	case bearer != "":
		opts = append(opts, elastictransport.WithServiceToken(bearer))
	case cfg.APIKey != "":
		opts = append(opts, elastictransport.WithAPIKey(cfg.APIKey))
	case cfg.Username != "":
		opts = append(opts, elastictransport.WithBasicAuth(cfg.Username, cfg.Password))
	}
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	c.transport = tp
	return c, nil
}

// Requests is the number of HTTP requests made so far, retries included.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// URL names the cluster in messages.
func (c *Client) URL() string { return strings.Join(c.cfg.URLs, ",") }

// retryable: a network error may pass; a certificate that does not verify
// will not verify on the next attempt either.
func retryable(_ *http.Request, err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || libtext.Of(err).Kind == libtext.TLSFingerprintMismatch {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// ordered picks the first live address in the order given, so that "url:
// [a, b]" means "a, and b when a is down" rather than round robin.
type orderedSelector map[string]int

func ordered(urls []string) elastictransport.Selector {
	s := orderedSelector{}
	for i, u := range urls {
		s[strings.TrimRight(u, "/")] = i
	}
	return s
}

func (s orderedSelector) Select(conns []*elastictransport.Connection) (*elastictransport.Connection, error) {
	if len(conns) == 0 {
		return nil, errors.New("no connection")
	}
	best := conns[0]
	for _, c := range conns[1:] {
		if s[strings.TrimRight(c.URL.String(), "/")] < s[strings.TrimRight(best.URL.String(), "/")] {
			best = c
		}
	}
	return best, nil
}

// Error is a failed API request, in one line that names the address, the
// HTTP status when there was one, and what to do.
type Error struct {
	URL    string
	Status int // 0: no HTTP answer
	Msg    remedy.Message
	Err    error
}

func (e *Error) Error() string { return e.Phrase(nil) }

// Phrase is the error in the caller's words (remedy.Phraser): the advice
// may name one of its options.
func (e *Error) Phrase(name remedy.Namer) string {
	if e.Status > 0 {
		return fmt.Sprintf("elasticsearch %s: HTTP %d: %s", e.URL, e.Status, e.Msg.Phrase(name))
	}
	return fmt.Sprintf("elasticsearch %s: %s", e.URL, e.Msg.Phrase(name))
}

func (e *Error) Unwrap() error { return e.Err }

// do sends one request built by the official client's API package (esapi)
// through the transport, and decodes a 2xx JSON answer into out. It
// returns the address that answered.
func (c *Client) do(ctx context.Context, r esapi.Request, out any) (string, error) {
	rec := &answering{t: c.transport}
	c.requests.Add(1)
	res, err := r.Do(ctx, rec)
	where := c.URL()
	if rec.addr != "" {
		where = rec.addr
	}
	if err != nil {
		return where, &Error{URL: where, Msg: c.describe(ctx, err), Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return where, &Error{URL: where, Status: res.StatusCode, Msg: remedy.Text("reading the answer: " + err.Error()), Err: err}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return where, &Error{URL: where, Status: res.StatusCode, Msg: remedy.Text(c.statusMessage(res.StatusCode, body))}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return where, &Error{URL: where, Status: res.StatusCode, Msg: remedy.Sprintf("%T: the answer is not what Elasticsearch sends (%v)", r, err)}
	}
	return where, nil
}

// answering passes requests to the transport and remembers the address
// the transport chose, which esapi's Response does not carry.
type answering struct {
	t    esapi.Transport
	addr string
}

func (a *answering) Perform(req *http.Request) (*http.Response, error) {
	res, err := a.t.Perform(req)
	if req.URL != nil && req.URL.Host != "" {
		a.addr = req.URL.Scheme + "://" + req.URL.Host
	}
	return res, err
}

// describe turns a transport error into the admin's next step.
func (c *Client) describe(ctx context.Context, err error) remedy.Message {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var op *net.OpError
	switch {
	case errors.As(err, &ua):
		if c.cfg.CAFile != "" {
			return remedy.Sprintf("certificate signed by unknown authority: %s is not the CA of this certificate; give elasticsearch.ca or ca_fingerprint", c.cfg.CAFile)
		}
		return remedy.Text("certificate signed by unknown authority: give elasticsearch.ca or ca_fingerprint")
	case libtext.Of(err).Kind == libtext.TLSFingerprintMismatch:
		return remedy.Text("the server's certificate chain does not match elasticsearch.ca_fingerprint")
	case errors.As(err, &hn):
		return remedy.Text("the certificate is not valid for this address: " + hn.Error())
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return remedy.Sprintf("no answer within %s: a slow or overloaded cluster needs a longer elasticsearch.confirm_timeout (%v on commands that write)", c.cfg.ConfirmTimeout, remedy.ConfirmTimeout)
	case errors.Is(err, context.Canceled):
		return remedy.Text("interrupted")
	case libtext.Of(err).Kind == libtext.HTTPResponseToHTTPS:
		return remedy.Text("the address speaks plain http, not https")
	case errors.As(err, &op):
		return remedy.Text("unreachable: " + op.Err.Error())
	}
	return remedy.Text("unreachable: " + strings.ReplaceAll(err.Error(), "\n", " "))
}

// statusMessage explains an HTTP error status.
func (c *Client) statusMessage(status int, body []byte) string {
	switch status {
	case http.StatusUnauthorized:
		switch {
		case c.cfg.APIKey != "":
			return "the API key was refused (" + c.cfg.Auth + ")"
		case c.cfg.Username != "":
			return "the user name or password was refused (" + c.cfg.Auth + ")"
		}
		return "the credentials were refused"
	case http.StatusForbidden:
		return "the credentials are valid but not allowed: they need the read_security cluster privilege (manage_service_account on 7.x)"
	}
	var e struct {
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Reason != "" {
		return e.Error.Reason
	}
	return http.StatusText(status)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
