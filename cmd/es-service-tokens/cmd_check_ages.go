package main

// check and token ages: max_token_age (or --max-age) makes every token
// older than that drift, named with the rotate command that renews it.

import (
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func maxAgeFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-age", Usage: "report tokens older than `AGE` (90d, 12w, 36h) as drift; overrides the inventory's max_token_age"}
}

// tokenAges is check's view of the local tokens' ages.
type tokenAges struct {
	meta.Ages
	MaxText string
	File    string
	// MetaErr is why no age is known: the metadata file cannot be used.
	MetaErr *store.MetaError
	// Rotate is, by token, the command that renews it; empty when no
	// cluster is configured, which rotate needs.
	Rotate map[string]string
	// Replaces is, by token, the token it replaces in a rotation that has
	// not finished: that rotation is the way on (rotate refuses to start
	// another from a successor).
	Replaces map[string]string
}

// drift reports whether the ages make check fail: a token past the
// maximum, or a maximum that cannot be judged at all.
func (a *tokenAges) drift() bool {
	return a != nil && a.Max > 0 && (len(a.Over) > 0 || a.MetaErr != nil)
}

// maxAgeOption is --max-age, else the inventory's max_token_age; 0 when
// neither is set.
func (t *tool) maxAgeOption(c *cli.Context) (time.Duration, string, error) {
	if s := c.String("max-age"); c.IsSet("max-age") {
		d, err := meta.ParseAge(s)
		if err != nil {
			return 0, "", fail(exitUsage, "--max-age: %v", err)
		}
		return d, s, nil
	}
	if t.inv != nil {
		return t.inv.MaxTokenAge, t.inv.MaxTokenAgeText, nil
	}
	return 0, "", nil
}

// checkAges ages the tokens of the local file from its metadata.
func (t *tool) checkAges(c *cli.Context, file string, f *tokens.File) (*tokenAges, error) {
	max, text, err := t.maxAgeOption(c)
	if err != nil {
		return nil, err
	}
	m, err := store.LoadMeta(file)
	a := &tokenAges{MaxText: text, File: store.MetaPath(file), Rotate: map[string]string{}, Replaces: map[string]string{}}
	if me, ok := errors.AsType[*store.MetaError](err); ok {
		a.MetaErr, a.Max = me, max
		return a, nil
	}
	a.Ages = meta.Judge(f, m.Set, time.Now(), max)
	if c.String("es-url") == "" && (t.inv == nil || t.inv.Elasticsearch == nil) {
		return a, nil // rotate proves on the cluster: no command that would fail here
	}
	for _, o := range a.Over {
		renew := o.Token
		if r, ok := m.Set.Get(o.Token); ok && r.RotatedFrom != "" && r.Phase != meta.Done {
			renew, a.Replaces[o.Token] = r.RotatedFrom, r.RotatedFrom
		}
		a.Rotate[o.Token] = rotateCommandLine(c, file, rotate.Rotate, renew)
	}
	return a, nil
}
