package hostkeys

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
)

// Markers of known_hosts lines (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
const (
	markerNone      = ""
	markerAuthority = "cert-authority"
	markerRevoked   = "revoked"
)

// line is one key line of a known_hosts file.
type line struct {
	marker string
	hosts  []string // the patterns, as written
	knownhosts.KnownKey
}

// db is the lines of some known_hosts files, matched as OpenSSH's hostfile.c
// matches them. It is hand-written because x/crypto/ssh/knownhosts matches
// host patterns its own way (a pattern without a port, "*" included, never
// matches a node on another port, so "@cert-authority * KEY" would cover no
// node on port 2222 where ssh covers all of them) and cannot list a host's
// certificate authorities apart from its keys.
//
// A fleet's known_hosts has a line per node, and every connection looks its
// node up, so lines are indexed: by name when every pattern of the line is
// a plain name (the usual "[host]:port" line, which matches only itself),
// revoked keys by key. Lines with wildcards, negations or hashed names are
// matched one by one, as ssh does, for every lookup.
type db struct {
	lines   []line
	byName  map[string][]int // plain-named lines by lower-case name
	scan    []int            // every other line, in file order
	revoked map[string]int   // @revoked lines by their key's wire form
}

// add indexes a new line.
func (d *db) add(l line) {
	i := len(d.lines)
	d.lines = append(d.lines, l)
	if d.byName == nil {
		d.byName, d.revoked = map[string][]int{}, map[string]int{}
	}
	if l.marker == markerRevoked {
		if _, ok := d.revoked[string(l.Key.Marshal())]; !ok {
			d.revoked[string(l.Key.Marshal())] = i
		}
	}
	if !slices.ContainsFunc(l.hosts, notPlain) {
		for _, h := range l.hosts {
			name := strings.ToLower(h)
			if !slices.Contains(d.byName[name], i) {
				d.byName[name] = append(d.byName[name], i)
			}
		}
		return
	}
	d.scan = append(d.scan, i)
}

// notPlain is a host pattern that can match another name than itself.
func notPlain(p string) bool { return strings.ContainsAny(p, "*?!|") }

// read adds the lines of one file. Lines that do not parse are skipped, as
// ssh skips them; a file with nothing but such lines is an error.
func (d *db) read(r io.Reader, file string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var firstErr error
	firstLine, valid := 0, 0
	for n := 1; sc.Scan(); n++ {
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(sc.Bytes())
		switch {
		case err == io.EOF: // blank or comment
		case err == nil && (marker == markerNone || marker == markerAuthority || marker == markerRevoked):
			d.add(line{marker: marker, hosts: hosts, KnownKey: knownhosts.KnownKey{Key: key, Filename: file, Line: n}})
			valid++
		case firstErr == nil:
			if err == nil {
				err = fmt.Errorf("unknown marker @%s", marker)
			}
			firstErr, firstLine = err, n
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("known_hosts %s: %w", file, err)
	}
	if valid == 0 && firstErr != nil {
		return fmt.Errorf("known_hosts %s:%d: %v, and no line of the file is valid: fix that line", file, firstLine, firstErr)
	}
	return nil
}

// readFiles reads files into a db; a file that does not exist holds no
// keys.
func readFiles(files []string) (*db, error) {
	d := &db{}
	for _, f := range files {
		fh, err := os.Open(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("known_hosts %s: %w", f, err)
		}
		err = d.read(fh, f)
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// lookupName is what known_hosts is searched for: the host for port 22,
// else [host]:port, lower-cased as ssh does.
func lookupName(hostport string) string {
	return strings.ToLower(knownhosts.Normalize(hostport))
}

// matching returns the lines with marker whose host patterns match name,
// in file order.
func (d *db) matching(marker, name string) []knownhosts.KnownKey {
	var idx []int
	for _, i := range d.scan {
		if d.lines[i].marker == marker && hostsMatch(d.lines[i].hosts, name) {
			idx = append(idx, i)
		}
	}
	for _, i := range d.byName[name] {
		if d.lines[i].marker == marker {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	out := make([]knownhosts.KnownKey, len(idx))
	for k, i := range idx {
		out[k] = d.lines[i].KnownKey
	}
	return out
}

// revokedLine is the @revoked line of key, or nil. A revoked key is
// refused for every host, whatever the patterns of its line.
func (d *db) revokedLine(key ssh.PublicKey) *knownhosts.KnownKey {
	if i, ok := d.revoked[string(key.Marshal())]; ok {
		return &d.lines[i].KnownKey
	}
	return nil
}

// hostsMatch is OpenSSH's match_hostname over a line's patterns: a hashed
// entry matches the exact name; otherwise any matching negated pattern
// vetoes the line, and one matching pattern is needed.
func hostsMatch(patterns []string, name string) bool {
	matched := false
	for _, p := range patterns {
		if strings.HasPrefix(p, "|1|") {
			if hashedMatch(p, name) {
				matched = true
			}
			continue
		}
		neg := strings.HasPrefix(p, "!")
		if !sshconfig.MatchPattern(strings.ToLower(strings.TrimPrefix(p, "!")), name) {
			continue
		}
		if neg {
			return false
		}
		matched = true
	}
	return matched
}

// hashedMatch reports whether a hashed host entry (|1|salt|hash, as
// HashKnownHosts writes) is name.
func hashedMatch(entry, name string) bool {
	parts := strings.Split(entry, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	hash, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(name))
	return hmac.Equal(mac.Sum(nil), hash)
}
