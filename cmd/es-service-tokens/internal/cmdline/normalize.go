package cmdline

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/es-service-tokens/es-service-tokens/internal/libtext"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Normalize lets options appear anywhere, as docs/commands.md promises and as
// they may for Elasticsearch's CLI: global options move before the command,
// the command's options (even when given before the command) after it, and
// everything after "--" stays an argument (so a token name may start with
// '-'). It also turns "help [COMMAND]" into --help, gives a plain number of
// seconds to duration options, and refuses an unknown command or option
// with the nearest valid one.
//
// urfave/cli stops parsing global flags at the command and command flags at
// the first argument; this is the one place that knows every flag.
func Normalize(app *cli.App, args []string) ([]string, error) {
	ix := indexFlags(app)
	s, err := ix.sort(app, args)
	if err != nil {
		return nil, err
	}
	if err := s.checkExclusive(app); err != nil {
		return nil, err
	}
	out := append([]string{args[0]}, s.global...)
	if s.cmd == nil {
		return s.withoutCommand(app, out)
	}
	if err := s.checkPending(app, ix); err != nil {
		return nil, err
	}
	out = append(out, s.cmd.Name)
	if s.help {
		return append(out, "--help"), nil
	}
	out = append(out, s.pending...)
	out = append(out, s.local...)
	out = append(out, "--")
	return append(out, s.positional...), nil
}

// flagIndex is what normalizeArgs knows of every option: whether it takes
// a value (by name and alias), and which are durations.
type flagIndex struct {
	globals   map[string]bool
	anyLocal  map[string]bool // the options of any command
	durations map[string]bool
}

func indexFlags(app *cli.App) flagIndex {
	ix := flagIndex{globals: flagArity(app.Flags), anyLocal: map[string]bool{}, durations: map[string]bool{}}
	collectDurations(app.Flags, ix.durations)
	for _, c := range app.Commands {
		for n, v := range flagArity(c.Flags) {
			ix.anyLocal[n] = v
		}
		collectDurations(c.Flags, ix.durations)
	}
	return ix
}

// sortedArgs is a command line taken apart by normalizeArgs.
type sortedArgs struct {
	cmd  *cli.Command
	help bool // "help" came before the command
	// pending are options of some command given before the command; they
	// are judged once the command is known.
	global, local, pending, positional []string
}

// sort files every word of args under the command, its options, the
// global options or the positional arguments.
func (ix flagIndex) sort(app *cli.App, args []string) (*sortedArgs, error) {
	s := &sortedArgs{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			s.positional = append(s.positional, args[i+1:]...)
			return s, nil
		case len(a) > 1 && a[0] == '-':
			var err error
			if i, err = ix.option(app, s, args, i); err != nil {
				return nil, err
			}
		case s.cmd != nil:
			s.positional = append(s.positional, a)
		case a == "help" && !s.help:
			s.help = true
		default:
			if s.cmd = app.Command(a); s.cmd == nil {
				return nil, unknownCommand(app, a)
			}
		}
	}
	return s, nil
}

// option files the option args[i], and its value when it takes one; it
// returns the index of the last word it used.
func (ix flagIndex) option(app *cli.App, s *sortedArgs, args []string, i int) (int, error) {
	a := args[i]
	name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	var dst *[]string
	var takesValue bool
	switch {
	case s.cmd != nil && HasFlag(s.cmd.Flags, name):
		dst, takesValue = &s.local, flagArity(s.cmd.Flags)[name]
	case hasKey(ix.globals, name):
		dst, takesValue = &s.global, ix.globals[name]
	case s.cmd == nil && hasKey(ix.anyLocal, name):
		dst, takesValue = &s.pending, ix.anyLocal[name]
	default:
		return i, unknownOption(app, s.cmd, a)
	}
	if hasValue && ix.durations[name] {
		a = strings.TrimSuffix(a, value) + seconds(value)
	}
	*dst = append(*dst, a)
	if !takesValue || hasValue {
		return i, nil
	}
	if i+1 == len(args) {
		usage := CommandList(app)
		if s.cmd != nil {
			usage = Usage(s.cmd)
		}
		return i, &UsageError{msg: fmt.Sprintf("%s needs a value: %s VALUE", a, a), usage: usage}
	}
	v := args[i+1]
	if ix.durations[name] {
		v = seconds(v)
	}
	*dst = append(*dst, v)
	return i + 1, nil
}

// withoutCommand is a command line that names no command: help, the
// version, or a usage error.
func (s *sortedArgs) withoutCommand(app *cli.App, out []string) ([]string, error) {
	switch {
	case hasHelp(s.global):
		return out, nil
	case s.help || hasHelp(s.pending):
		return append(out, "--help"), nil
	case hasArg(s.global, "version"):
		return append(out, "version"), nil
	}
	return nil, &UsageError{msg: "Missing required command", usage: CommandList(app)}
}

// checkPending refuses an option given before the command that the
// command does not have.
func (s *sortedArgs) checkPending(app *cli.App, ix flagIndex) error {
	for i := 0; i < len(s.pending); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(s.pending[i], "-"), "=")
		if !HasFlag(s.cmd.Flags, name) && !hasKey(ix.globals, name) {
			return unknownOption(app, s.cmd, s.pending[i])
		}
		if ix.anyLocal[name] && !hasValue {
			i++ // its value, moved with it
		}
	}
	return nil
}

// checkExclusive refuses -s with -v as Elasticsearch's CLI does (its -v
// is availableUnless -s), in joptsimple's words.
func (s *sortedArgs) checkExclusive(app *cli.App) error {
	if !(hasArg(s.global, "s") || hasArg(s.global, "silent")) || !(hasArg(s.global, "v") || hasArg(s.global, "verbose")) {
		return nil
	}
	usage := CommandList(app)
	if s.cmd != nil {
		usage = Usage(s.cmd)
	}
	return &UsageError{option: true, usage: usage,
		msg: "Option(s) [v/verbose] are unavailable given other options on the command line"}
}

// seconds gives a bare number a unit, so that "--timeout 5" means five
// seconds as connect_timeout: 5 does in an inventory; "1m30s" is kept.
func seconds(v string) string {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && !strings.ContainsAny(v, "eEnNiI") {
		return v + "s"
	}
	return v
}

func collectDurations(flags []cli.Flag, into map[string]bool) {
	for _, f := range flags {
		if _, ok := f.(*cli.DurationFlag); ok {
			for _, n := range f.Names() {
				into[n] = true
			}
		}
	}
}

// hasArg reports whether -name or --name was given.
func hasArg(flags []string, name string) bool {
	for _, f := range flags {
		if f == "--"+name || f == "-"+name {
			return true
		}
	}
	return false
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

func HasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

func hasHelp(flags []string) bool {
	for _, f := range flags {
		if f == "-h" || f == "--help" || f == "-help" {
			return true
		}
	}
	return false
}

// flagArity maps each flag name to whether it takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	m := map[string]bool{"h": false, "help": false}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

// unknownOption refuses an option in joptsimple's words ("x is not a
// recognized option", the name without dashes, as Elasticsearch prints
// it), then says which command has it, or the nearest option the command
// (or, before a command, any command) has.
func unknownOption(app *cli.App, cmd *cli.Command, given string) error {
	var names []string
	for n := range flagArity(app.Flags) {
		names = append(names, n)
	}
	usage := CommandList(app)
	if cmd != nil {
		for n := range flagArity(cmd.Flags) {
			names = append(names, n)
		}
		usage = Usage(cmd)
	} else {
		for _, c := range app.Commands {
			for n := range flagArity(c.Flags) {
				names = append(names, n)
			}
		}
	}
	name, _, _ := strings.Cut(strings.TrimLeft(given, "-"), "=")
	msg := safetext.Bounded(name) + " is not a recognized option"
	var owners []string
	for _, c := range app.Commands {
		if c != cmd && HasFlag(c.Flags, name) {
			owners = append(owners, c.Name)
		}
	}
	if cmd != nil && len(owners) > 0 {
		msg += fmt.Sprintf("; it is an option of %s", strings.Join(owners, ", "))
	} else if s := nearest(name, names); s != "" {
		dash := "--"
		if len(s) == 1 {
			dash = "-"
		}
		msg += "; did you mean " + dash + s + "?"
	}
	return &UsageError{option: true, msg: msg, usage: usage}
}

func unknownCommand(app *cli.App, given string) error {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	names = append(names, "help")
	msg := fmt.Sprintf("Unknown command [%s]", safetext.Input(given))
	if s := nearest(given, names); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return &UsageError{msg: msg, usage: CommandList(app)}
}

// nearest is the candidate most like given, or "" when none is close
// enough to be what the user meant. Jaro-Winkler (urfave/cli's own choice
// for suggestions) favours a shared prefix, which is how options are
// mistyped; the threshold keeps "--bogus" from suggesting anything.
func nearest(given string, candidates []string) string {
	sort.Strings(candidates) // deterministic among equals
	best, score := "", 0.0
	for _, c := range candidates {
		if len(c) == 1 && len(given) > 1 {
			continue // a one-letter alias is never a useful suggestion
		}
		if s := smetrics.JaroWinkler(strings.ToLower(given), c, 0.7, 4); s > score {
			best, score = c, s
		}
	}
	if score < 0.8 {
		return ""
	}
	return best
}

// Usage is a command's one-line synopsis, printed above a usage error.
func Usage(cmd *cli.Command) string {
	args := strings.TrimSpace(cmd.ArgsUsage)
	if args != "" {
		args = " " + args
	}
	return "Usage: es-service-tokens " + cmd.Name + " [options]" + args
}

func CommandList(app *cli.App) string {
	var b strings.Builder
	b.WriteString(app.Usage + "\n\nUsage: es-service-tokens [options] COMMAND [options] [ARGS]\n\nCommands\n--------\n")
	for _, c := range app.Commands {
		if !c.Hidden {
			fmt.Fprintf(&b, "%-10s %s\n", c.Name, c.Usage)
		}
	}
	fmt.Fprintf(&b, "%-10s %s\n", "help", "Show a command's options: help [COMMAND]")
	return strings.TrimRight(b.String(), "\n")
}

// NoArgs refuses arguments to a command that takes none.
func NoArgs(c *cli.Context) error {
	if c.Args().Len() == 0 {
		return nil
	}
	return &UsageError{msg: fmt.Sprintf("%s takes no arguments, found [%s]", c.Command.Name, safetext.Input(strings.Join(c.Args().Slice(), ","))),
		usage: Usage(c.Command)}
}

// UsageError is a command line that cannot work: exit code 64, with the
// usage line (or the list of commands) to print above it. An option error
// is in joptsimple's words, as Elasticsearch prints it.
type UsageError struct {
	msg, usage string
	option     bool
}

func (e *UsageError) Error() string { return e.msg }

// Usage is what to print above the error: a command's usage line, or the
// list of commands.
func (e *UsageError) Usage() string { return e.usage }

// Option reports whether the error is about an option (Elasticsearch
// prints "ERROR: msg" alone, with no exit code).
func (e *UsageError) Option() bool { return e.option }

// ValueRemedy says what a bad option value should look like, where
// urfave/cli only says "parse error".
func ValueRemedy(err error, flags []cli.Flag) string {
	m := libtext.Of(err)
	if m.Kind != libtext.FlagParseError {
		return err.Error()
	}
	for _, f := range flags {
		if !HasFlag([]cli.Flag{f}, m.Flag) {
			continue
		}
		switch f.(type) {
		case *cli.DurationFlag:
			return fmt.Sprintf("invalid value %q for flag -%s: give a number of seconds (5) or a duration (1m30s)", safetext.Input(m.Value), m.Flag)
		case *cli.IntFlag:
			return fmt.Sprintf("invalid value %q for flag -%s: give a whole number", safetext.Input(m.Value), m.Flag)
		}
	}
	return err.Error()
}

// FormatJSON reports whether the command line asks for --format json,
// wherever the option is; it is known before the line is parsed, so that
// even a parse error comes as JSON.
func FormatJSON(args []string) bool {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return false
		case a == "--format=json" || a == "-format=json":
			return true
		case (a == "--format" || a == "-format") && i+1 < len(args):
			if args[i+1] == "json" {
				return true
			}
			i++
		}
	}
	return false
}
