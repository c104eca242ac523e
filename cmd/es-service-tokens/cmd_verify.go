package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
)

// liveVerify sends the token to _authenticate when a cluster is
// configured; nil, nil when not. Admin credentials are optional: the token
// is its own; with them, the answering node is named.
func (t *tool) liveVerify(c *cli.Context, bearer string) (*elastic.Authentication, error) {
	var inv *inventory.Inventory
	if c.String("inventory") != "" {
		var err error
		if inv, err = t.loadInventory(c); err != nil {
			return nil, err
		}
	}
	cfg, ok, err := t.resolveES(c, inv, true)
	if err != nil || !ok {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConfirmTimeout)
	defer cancel()
	a, err := elastic.Authenticate(ctx, cfg, bearer, cfg.Auth != "")
	return &a, err
}

// verifyLive asks the cluster; nil when no cluster is configured.
func (t *tool) verifyLive(c *cli.Context, bearer string) (*liveResult, error) {
	a, err := t.liveVerify(c, bearer)
	if a == nil && err != nil {
		return nil, err // a configuration error: nothing was sent
	}
	if a == nil {
		return nil, nil
	}
	auth := authenticationJSON(*a)
	res := &liveResult{Valid: err == nil, authenticationJSON: &auth}
	if err != nil {
		res.Error = phrase(err)
		var ee *elastic.Error
		if errors.As(err, &ee) {
			res.Status = ee.Status
		}
	}
	return res, nil
}

// printLive reports the local and the live verdicts; both must agree.
func (t *tool) printLive(c *cli.Context, asJSON bool, res verifyResult, live *liveResult, haveLocal bool) error {
	res.Elasticsearch = live
	ok := live.Valid && (!haveLocal || res.Valid)
	refused := live.Status == 401
	disagree := ""
	switch {
	case haveLocal && res.Valid && refused:
		disagree = "the local file accepts the token but Elasticsearch refused it: the answering node has not loaded the current file (or cannot parse it); look at its log"
	case haveLocal && !res.Valid && live.Valid:
		// Which of the node's file or its Elasticsearch is behind cannot
		// be told from here: each remedy is given for the state it fits.
		disagree = "Elasticsearch accepted the token but the local file does not: the answering node serves a token the local file lacks; check -i tells whether that node's file has it (then pull it, or push the local file) or not (then its Elasticsearch has not reloaded it: look at that node's log, or restart it)"
	}
	if !haveLocal {
		res.Valid, res.QualifiedName = live.Valid, ""
		if live.Valid {
			res.QualifiedName = live.Username + "/" + live.TokenName
		}
	}
	if asJSON {
		if disagree != "" {
			res.Reason = disagree
		}
		res.Valid = ok
		if err := writeJSON(t.stdout, res); err != nil {
			return err
		}
	} else {
		if haveLocal {
			printLocalVerdict(t, res)
		}
		switch {
		case live.Valid:
			by := "at " + live.URL
			if live.Node != "" {
				by = "by node " + live.Node + " at " + live.URL
			}
			fmt.Fprintf(t.stdout, "VALID %s/%s in Elasticsearch: authenticated %s\n", live.Username, live.TokenName, by)
		case refused:
			fmt.Fprintf(t.stdout, "INVALID in Elasticsearch: %s\n", live.Error)
		default:
			fmt.Fprintf(t.stdout, "UNKNOWN in Elasticsearch: %s\n", live.Error)
		}
		if disagree != "" {
			fmt.Fprintf(t.stdout, "DISAGREE: %s\n", disagree)
		}
	}
	if !ok {
		return silentExit(exitFailed)
	}
	return nil
}

func (t *tool) verifyCommand() *cli.Command {
	return command("verify", "[<bearer-token> | -]", "Check a bearer token against the file as Elasticsearch authenticates it",
		"Reads the token from standard input when it is - or missing, which keeps it\n"+
			"out of the process list and shell history. Exits 0 when valid, 1 when not.\n"+
			"Example:\n   es-service-tokens verify < kibana.token",
		t.verify, append(esFlags(false),
			&cli.BoolFlag{Name: "all-nodes", Usage: "send the token to every inventory node's own address (es_http_url or elasticsearch.node_url) and report each node's answer"},
			confirmTimeoutFlag("with --all-nodes, ask nodes that refuse the token again for up to `DURATION` (or seconds): they may not have reloaded yet"))...)
}

func (t *tool) verify(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) > 1 {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("Expected at most one argument, the bearer token, found extra: [%d arguments]", len(args)),
			usage: usageLine(c.Command)}
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	bearer, err := t.readBearer(c, args)
	if err != nil {
		return err
	}
	if c.Bool("all-nodes") {
		return t.verifyAllNodes(c, asJSON, bearer)
	}
	if c.IsSet("confirm-timeout") {
		return fail(exitUsage, "--confirm-timeout needs --all-nodes: a single check asks once")
	}
	live, err := t.verifyLive(c, bearer)
	if err != nil {
		return err
	}
	loc, snap, err := t.loadLocal(c)
	if live != nil && errors.Is(err, esconfig.ErrNoLocation) {
		// No local file: Elasticsearch alone decides.
		return t.printLive(c, asJSON, verifyResult{}, live, false)
	}
	if err != nil {
		return err
	}
	res := verifyResult{File: loc.File}
	var reason error
	res.QualifiedName, reason = tokens.Authenticate(bearer, snap.File, loc.File)
	if res.Valid = reason == nil; !res.Valid {
		res.Reason = reason.Error()
	}
	if live != nil {
		return t.printLive(c, asJSON, res, live, true)
	}
	return t.printVerify(asJSON, res)
}

// readBearer is the token to verify: the argument, else a line of
// standard input, read like a password on a terminal.
func (t *tool) readBearer(c *cli.Context, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		// The secret is already out: say so, so that the habit changes.
		t.warn(c, "a token on the command line is visible to other users (process list, shell history); pass it on standard input instead: es-service-tokens verify < TOKEN_FILE")
		return tokens.BearerFrom(args[0]), nil
	}
	if f, ok := t.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// Typed or pasted on a terminal: not echoed, like a password.
		fmt.Fprint(t.stderr, "Bearer token (not shown): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(t.stderr)
		if err != nil {
			return "", fail(exitIOError, "cannot read the token from the terminal: %v", err)
		}
		return tokens.BearerFrom(strings.TrimSpace(string(b))), nil
	}
	line, err := bufio.NewReader(t.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fail(exitUsage, "no bearer token on standard input")
	}
	return tokens.BearerFrom(strings.TrimRight(line, "\r\n")), nil
}

// printVerify prints the local verdict; an invalid token exits 1.
func (t *tool) printVerify(asJSON bool, res verifyResult) error {
	if asJSON {
		if err := writeJSON(t.stdout, res); err != nil {
			return err
		}
	} else if res.Valid {
		fmt.Fprintf(t.stdout, "VALID %s\n", res.QualifiedName)
	} else if res.QualifiedName != "" {
		fmt.Fprintf(t.stdout, "INVALID %s: %s\n", res.QualifiedName, res.Reason)
	} else {
		fmt.Fprintf(t.stdout, "INVALID: %s\n", res.Reason)
	}
	if !res.Valid {
		return silentExit(exitFailed)
	}
	return nil
}
