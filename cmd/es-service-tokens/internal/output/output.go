// Package output renders what the commands of es-service-tokens found:
// text for people, the JSON documents (the CLI's wire format: the JSON
// types live here, the libraries' types carry no json tags), the Nagios
// plugin line and node_exporter's textfile metrics. It phrases library
// messages in the command line's words (the flags a remedy.Kind stands
// for). It decides nothing: every verdict comes from the library report
// it is given.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// JSON prints one JSON document on one line.
func JSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// nameWidth is the width of a report's name column: the longest of n
// names, and at least 4.
func nameWidth(n int, name func(int) string) int {
	w := 4
	for i := 0; i < n; i++ {
		if l := len(name(i)); l > w {
			w = l
		}
	}
	return w
}

// Plural is "1 token", "2 tokens".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
