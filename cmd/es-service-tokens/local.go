package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// tokenArgs checks <principal> <token-name> in Elasticsearch's order:
// argument count (64), principal (67), token name (70).
func tokenArgs(c *cli.Context) (tokens.Account, string, error) {
	args := c.Args().Slice()
	usage := usageLine(c.Command)
	switch {
	case len(args) == 0:
		return tokens.Account{}, "", &exitError{code: exitUsage, msg: "Missing service-account-principal and token-name arguments", usage: usage}
	case len(args) == 1:
		return tokens.Account{}, "", &exitError{code: exitUsage, msg: "Missing token-name argument", usage: usage}
	case len(args) > 2:
		return tokens.Account{}, "", &exitError{code: exitUsage, msg: fmt.Sprintf("Expected two arguments, service-account-principal and token-name, found extra: [%s]", strings.Join(args, ",")), usage: usage}
	}
	acct, err := principal(args[0])
	if err != nil {
		return tokens.Account{}, "", err
	}
	if !tokens.ValidTokenName(args[1]) {
		return tokens.Account{}, "", fail(exitCodeError, "%s", tokens.InvalidTokenNameMessage(args[1]))
	}
	return acct, args[1], nil
}

func principalNames() []string {
	var names []string
	for _, a := range tokens.Accounts() {
		names = append(names, a.Principal)
	}
	return names
}

func principal(p string) (tokens.Account, error) {
	acct, ok := tokens.LookupAccount(p)
	if !ok {
		return tokens.Account{}, fail(exitNoUser, "%s", tokens.UnknownPrincipalMessage(p))
	}
	return acct, nil
}

// location finds the local token file and, with -i, loads the inventory
// whose local_file may name it.
func (t *tool) location(c *cli.Context) (esconfig.Location, error) {
	inv, err := t.inventoryLocalFile(c)
	if err != nil {
		return esconfig.Location{}, err
	}
	return esconfig.Locate(esconfig.Sources{
		File: c.String("file"), PathConf: c.String("path-conf"), ESHome: c.String("es-home"),
		Inventory: inv, Env: t.getenv,
	})
}

// loadLocal finds and loads the local file; a missing file is an empty
// one, as for Elasticsearch. The location's errors come back as they are,
// so that the caller can tell "no file configured" (esconfig.ErrNoLocation).
func (t *tool) loadLocal(c *cli.Context) (esconfig.Location, store.Snapshot, error) {
	loc, err := t.location(c)
	if err != nil {
		return loc, store.Snapshot{}, err
	}
	snap, err := store.Load(loc.File)
	return loc, snap, err
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

// prepareChange is the start that create and delete share. It checks, in
// this order and before anything changes: the command line's principal and
// token name, the local file's location, what the command itself needs
// (ready), and with -i the inventory, --limit and keys, so that a typo
// cannot leave a changed file that was not pushed. The caller closes the
// plan, which is nil without -i.
func (t *tool) prepareChange(c *cli.Context, ready func(esconfig.Location) error) (acct tokens.Account, name string, loc esconfig.Location, plan *remote, err error) {
	if acct, name, err = tokenArgs(c); err != nil {
		return
	}
	if loc, err = t.location(c); err != nil {
		return
	}
	if ready != nil {
		if err = ready(loc); err != nil {
			return
		}
	}
	plan, err = t.pushPlan(c)
	return
}

func (t *tool) createCommand() *cli.Command {
	return command("create", "<principal> <token-name>", "Create a file token for specified service account and token name",
		"Example:\n   es-service-tokens create elastic/fleet-server my-token\n"+
			"   es-service-tokens -i cluster.yml create elastic/kibana kibana-1 --token-file /root/kibana.token",
		t.create, append([]cli.Flag{tokenFileFlag()}, nodeFlags(true)...)...)
}

func tokenFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "token-file", Usage: "write the bearer token to a new file `PATH` (mode 0600) instead of stdout"}
}

func (t *tool) create(c *cli.Context) error {
	var asJSON bool
	var alg tokens.Algorithm
	acct, name, loc, plan, err := t.prepareChange(c, func(loc esconfig.Location) (err error) {
		asJSON, alg, err = t.createOptions(c, loc)
		return err
	})
	if err != nil {
		return err
	}
	defer plan.close()
	if err := t.beginAudit(c, "create"); err != nil {
		return err
	}
	// In JSON the note is a field of the token document, not a warning:
	// it describes the token, and a script creating tokens in a loop would
	// otherwise log it every time.
	note := acct.VersionNote()
	if note != "" && !asJSON {
		t.warn(c, "%s", note)
	}
	tok, hash, err := tokens.New(acct, name, alg, t.random)
	if err != nil {
		return err
	}
	tokenFile := c.String("token-file")
	change, err := addToken(loc.File, tok, hash, tokenFile)
	if err != nil {
		return err
	}
	t.audit.localChange(loc.File, tok.QualifiedName(), change.Before.Data, change.After)
	res := createResult{TokenFile: tokenFile, File: loc.File, Algorithm: alg.String(), Note: note}
	res.Token.Principal, res.Token.Name, res.Token.QualifiedName = acct.Principal, name, tok.QualifiedName()
	if printErr := t.printCreated(asJSON, res, tok); printErr != nil && tokenFile == "" {
		return takeBack(loc.File, tok, printErr, plan != nil)
	}
	t.printWarnings(change.Warnings)
	if plan == nil {
		return nil
	}
	return t.pushAfterChange(c, plan, loc, change)
}

// createOptions checks create's own settings: the output format and the
// hashing algorithm (-E, else the node's elasticsearch.yml).
func (t *tool) createOptions(c *cli.Context, loc esconfig.Location) (asJSON bool, alg tokens.Algorithm, err error) {
	if asJSON, err = t.jsonOutput(c); err != nil {
		return
	}
	overrides, err := esconfig.ParseOverrides(c.StringSlice("E"))
	if err != nil {
		return
	}
	alg, _, err = esconfig.HashingAlgorithm(loc.ConfigDir, overrides, t.getenv)
	return
}

// addToken adds tok to the local file. With a token file the secret is
// on disk before the token exists, so no failure after this point can
// leave a token nobody can use; the token file goes again when the token
// cannot be added.
func addToken(file string, tok tokens.Token, hash, tokenFile string) (store.Change, error) {
	if tokenFile != "" {
		if err := atomicfile.WriteNew(tokenFile, []byte(tok.Bearer()+"\n"), 0o600); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return store.Change{}, fail(exitCantCreate, "token file [%s] already exists; give a new path (a token file is never overwritten)", tokenFile)
			}
			return store.Change{}, fail(exitCantCreate, "cannot create token file [%s]: %v", tokenFile, fserr.WithoutPath(err))
		}
	}
	change, err := store.Update(file, func(f *tokens.File) error {
		if _, ok := f.Hash(tok.QualifiedName()); ok {
			return fail(exitCodeError, "Service token [%s] already exists", tok.QualifiedName())
		}
		f.Set(tok.QualifiedName(), hash)
		return nil
	})
	if err != nil && tokenFile != "" {
		os.Remove(tokenFile)
	}
	return change, err
}

// printCreated prints the new token: its secret only where no token file
// holds it.
func (t *tool) printCreated(asJSON bool, res createResult, tok tokens.Token) error {
	switch {
	case asJSON:
		if res.TokenFile == "" {
			res.Token.Value = tok.Bearer()
		}
		return writeJSON(t.stdout, res)
	case res.TokenFile != "":
		_, err := fmt.Fprintf(t.stdout, "SERVICE_TOKEN %s written to %s\n", tok.QualifiedName(), res.TokenFile)
		return err
	default:
		_, err := fmt.Fprintf(t.stdout, "SERVICE_TOKEN %s = %s\n", tok.QualifiedName(), tok.Bearer())
		return err
	}
}

// takeBack removes a token whose secret nobody received (the print
// failed) rather than leave one that no client can ever use. The push
// comes after the print for this reason: no node has seen the token yet.
func takeBack(file string, tok tokens.Token, printErr error, withPush bool) error {
	_, undoErr := store.Update(file, func(f *tokens.File) error { f.Delete(tok.QualifiedName()); return nil })
	if undoErr != nil {
		return fail(exitIOError, "cannot write the token to standard output (%v) and cannot remove it from %s again: %v; delete [%s] by hand", fserr.WithoutPath(printErr), file, undoErr, tok.QualifiedName())
	}
	pushed := ""
	if withPush {
		pushed = "; nothing was pushed"
	}
	return fail(exitIOError, "cannot write the token to standard output (%v): nobody received its secret, so [%s] was removed from %s again%s", fserr.WithoutPath(printErr), tok.QualifiedName(), file, pushed)
}

func (t *tool) deleteCommand() *cli.Command {
	return command("delete", "<principal> <token-name>", "Remove a file token for specified service account and token name",
		"Example:\n   es-service-tokens delete elastic/fleet-server my-token",
		t.delete, nodeFlags(true)...)
}

func (t *tool) delete(c *cli.Context) error {
	acct, name, loc, plan, err := t.prepareChange(c, nil)
	if err != nil {
		return err
	}
	defer plan.close()
	if err := t.beginAudit(c, "delete"); err != nil {
		return err
	}
	key := acct.Principal + "/" + name
	change, err := store.Update(loc.File, func(f *tokens.File) error {
		if !f.Delete(key) {
			return fail(exitCodeError, "Service token [%s] does not exist", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.audit.localChange(loc.File, key, change.Before.Data, change.After)
	t.printWarnings(change.Warnings)
	if plan == nil {
		return nil
	}
	return t.pushAfterChange(c, plan, loc, change)
}

// listEntry is one token in list's JSON output.
type listEntry struct {
	QualifiedName string `json:"qualified_name"`
	Principal     string `json:"principal"`
	Name          string `json:"name"`
	HashAlgorithm string `json:"hash_algorithm"`
}

func (t *tool) listCommand() *cli.Command {
	return command("list", "[<principal>]", "List file tokens for the specified service accounts",
		"Example:\n   es-service-tokens list elastic/fleet-server",
		t.list)
}

func (t *tool) list(c *cli.Context) error {
	prefix, err := listPrefix(c)
	if err != nil {
		return err
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	loc, snap, err := t.loadLocal(c)
	if err != nil {
		return err
	}
	entries := []listEntry{}
	for _, k := range snap.File.Keys() {
		if strings.HasPrefix(k, prefix) {
			e := listEntry{QualifiedName: k, HashAlgorithm: string(snap.File.Kind(k))}
			e.Principal, e.Name, _ = tokens.SplitQualifiedName(k)
			entries = append(entries, e)
		}
	}
	if asJSON {
		return writeJSON(t.stdout, struct {
			File   string      `json:"file"`
			Tokens []listEntry `json:"tokens"`
		}{loc.File, entries})
	}
	w := bufio.NewWriter(t.stdout)
	for _, e := range entries {
		fmt.Fprintln(w, e.QualifiedName)
	}
	return w.Flush()
}

// listPrefix is what list's optional principal argument keeps: the keys
// that start with it.
func listPrefix(c *cli.Context) (string, error) {
	args := c.Args().Slice()
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		acct, err := principal(args[0])
		if err != nil {
			return "", err
		}
		return acct.Principal + "/", nil
	}
	return "", &exitError{code: exitUsage, msg: fmt.Sprintf("Expected at most one argument, service-account-principal, found extra: [%s]", strings.Join(args, ",")),
		usage: usageLine(c.Command)}
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

func (t *tool) verifyCommand() *cli.Command {
	return command("verify", "[<bearer-token> | -]", "Check a bearer token against the file as Elasticsearch authenticates it",
		"Reads the token from standard input when it is - or missing, which keeps it\n"+
			"out of the process list and shell history. Exits 0 when valid, 1 when not.\n"+
			"Example:\n   es-service-tokens verify < kibana.token",
		t.verify, esFlags(false)...)
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
