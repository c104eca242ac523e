package main

// check and token ages: max_token_age (or --max-age) makes every token
// older than that drift, named with the rotate command that renews it.

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// maxAgeOption is --max-age, else the inventory's max_token_age; 0 when
// neither is set.
func (t *tool) maxAgeOption(c *cli.Context) (time.Duration, string, error) {
	if s := c.String("max-age"); c.IsSet("max-age") {
		d, err := meta.ParseAge(s)
		if err != nil {
			return 0, "", exit.Fail(exit.Usage, "--max-age: %v", err)
		}
		return d, s, nil
	}
	if t.inv != nil {
		return t.inv.MaxTokenAge, t.inv.MaxTokenAgeText, nil
	}
	return 0, "", nil
}

// checkAges ages the tokens of the local file from its metadata.
func (t *tool) checkAges(c *cli.Context, file string, f *tokens.File) (*output.Ages, error) {
	max, text, err := t.maxAgeOption(c)
	if err != nil {
		return nil, err
	}
	a := &output.Ages{Ages: check.TokenAges(file, f, max, time.Now()), MaxText: text, Rotate: map[string]string{}}
	if a.MetaErr != nil || c.String("es-url") == "" && (t.inv == nil || t.inv.Elasticsearch == nil) {
		return a, nil // rotate proves on the cluster: no command that would fail here
	}
	for _, o := range a.Over {
		a.Rotate[o.Token] = t.remedies(c, file).Rotate(rotate.Rotate, a.Renews(o.Token))
	}
	return a, nil
}
