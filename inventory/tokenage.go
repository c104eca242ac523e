package inventory

import (
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// setMaxTokenAge reads max_token_age (90d, 12w, 2160h), the age past which
// check reports a token (and renews it, rotating tokens older than an age).
func setMaxTokenAge(inv *Inventory, file string, line int, key, value string) error {
	d, err := meta.ParseAge(value)
	if err != nil {
		return &Error{File: file, Line: line, Key: key, Msg: err.Error()}
	}
	inv.MaxTokenAge, inv.MaxTokenAgeText = d, value
	return nil
}
