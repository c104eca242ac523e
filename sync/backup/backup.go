// Package backup keeps a node's previous service_tokens files beside it,
// as service_tokens.<UTC timestamp>.bak, when the inventory asks for
// backups (backups: N). It is opt-in: a backup holds token hashes, and
// every copy is one more file to protect.
package backup

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// Layout is the timestamp in a backup's name: UTC, sortable, no colons.
const Layout = "20060102T150405.000Z"

var stampPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$`)

// Name is the backup of target made at t.
func Name(target string, t time.Time) string {
	return target + "." + t.UTC().Format(Layout) + ".bak"
}

// Stamp returns the timestamp of a backup's base name, if it is one of
// target's backups.
func Stamp(target, name string) (string, bool) {
	prefix := path.Base(target) + "."
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".bak") {
		return "", false
	}
	stamp := strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".bak")
	return stamp, stampPattern.MatchString(stamp)
}

// List returns target's backups' timestamps, newest first.
func List(c *remotefile.Conn, target string) ([]string, error) {
	ents, err := c.Siblings(target, func(name string) bool { _, ok := Stamp(target, name); return ok })
	if err != nil {
		return nil, err
	}
	var stamps []string
	for _, e := range ents {
		s, _ := Stamp(target, e.Name)
		stamps = append(stamps, s)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(stamps)))
	return stamps, nil
}

// Make keeps target's current file as a backup: a hard link, which has
// its owner, group and mode by being the same file, and survives the
// rename that replaces target. link(2) on Linux does not follow a link at
// target (a swapped-in link is kept as a link), and changes no file's
// content or attributes. A server without hard links cannot get here:
// the node's lock needs them. It returns the backup's path.
func Make(c *remotefile.Conn, target string, now time.Time) (string, error) {
	bak := Name(target, now)
	if err := c.Link(target, bak); err != nil {
		return "", fmt.Errorf("backup %s: %w", bak, err)
	}
	return bak, nil
}

// Prune removes all but the newest keep backups of target and returns
// the names it removed.
func Prune(c *remotefile.Conn, target string, keep int) ([]string, error) {
	stamps, err := List(c, target)
	if err != nil || len(stamps) <= keep {
		return nil, err
	}
	var removed []string
	for _, s := range stamps[keep:] {
		p := target + "." + s + ".bak"
		if err := c.Remove(p); err != nil {
			return removed, fmt.Errorf("remove old backup %s: %w", p, err)
		}
		removed = append(removed, path.Base(p))
	}
	return removed, nil
}
