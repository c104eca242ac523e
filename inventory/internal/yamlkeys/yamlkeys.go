// Package yamlkeys finds duplicate mapping keys in a parsed YAML document.
// yaml.v3 reports them only when decoding into Go values, not into a
// yaml.Node, and YAML tools disagree on which copy wins; for a file that
// decides where secrets go, both inventory formats refuse them instead.
package yamlkeys

import (
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"gopkg.in/yaml.v3"
)

// Dup is a key written twice in one mapping.
type Dup struct {
	Key          string
	First, Again int // line numbers
}

// Message is the one-line description both inventory formats use, after
// "FILE:AGAIN: ".
func (d *Dup) Message() string {
	return fmt.Sprintf("duplicate key %q (first on line %d): remove one of the two", safetext.Input(d.Key), d.First)
}

// Duplicate returns the first duplicate key in document order, or nil.
// Keys are compared by their text, not their tag: 1 and "1" would name the
// same host, group or setting.
func Duplicate(n *yaml.Node) *Dup {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if d := Duplicate(c); d != nil {
				return d
			}
		}
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if first, ok := seen[k.Value]; ok {
					return &Dup{Key: k.Value, First: first, Again: k.Line}
				}
				seen[k.Value] = k.Line
			}
			if d := Duplicate(n.Content[i+1]); d != nil {
				return d
			}
		}
	}
	return nil
}
