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

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
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

func (t *tool) verify(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) > 1 {
		return &exit.Error{Code: exit.Usage, Msg: fmt.Sprintf("Expected at most one argument, the bearer token, found extra: [%d arguments]", len(args)),
			Usage: cmdline.Usage(c.Command)}
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	bearer, err := t.readBearer(c, args)
	if err != nil {
		return err
	}
	var v output.Verdicts
	if c.Bool("all-nodes") {
		v, err = t.verifyAllNodes(c, bearer)
	} else {
		v, err = t.verifyOnce(c, bearer)
	}
	if err != nil {
		return err
	}
	if err := output.Verify(t.stdout, asJSON, v); err != nil {
		return err
	}
	if !v.OK() {
		return exit.Silent(exit.Failed)
	}
	return nil
}

// verifyOnce judges the token by the local file and, when a cluster is
// configured, by the cluster; with no local file, the cluster alone
// decides.
func (t *tool) verifyOnce(c *cli.Context, bearer string) (output.Verdicts, error) {
	var v output.Verdicts
	if c.IsSet("confirm-timeout") {
		return v, exit.Fail(exit.Usage, "--confirm-timeout needs --all-nodes: a single check asks once")
	}
	a, err := t.liveVerify(c, bearer)
	if a == nil && err != nil {
		return v, err // a configuration error: nothing was sent
	}
	if a != nil {
		v.Live = &output.LiveVerdict{Authentication: *a, Err: err}
	}
	v.Local, err = t.localVerdict(c, bearer)
	if v.Live != nil && errors.Is(err, esconfig.ErrNoLocation) {
		return v, nil
	}
	return v, err
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
			return "", exit.Fail(exit.IOError, "cannot read the token from the terminal: %v", err)
		}
		return tokens.BearerFrom(strings.TrimSpace(string(b))), nil
	}
	line, err := bufio.NewReader(t.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", exit.Fail(exit.Usage, "no bearer token on standard input")
	}
	return tokens.BearerFrom(strings.TrimRight(line, "\r\n")), nil
}
