package hostkeys

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// The index finds, for every name, exactly the lines a scan of every line
// finds, in file order: plain names, several names a line, upper case,
// wildcards, negations, hashed names and markers mixed.
func TestIndexMatchesAScan(t *testing.T) {
	key := newSigner(t).PublicKey()
	names := []string{"es-1", "ES-2", "[10.0.0.1]:2222", "[es-3]:22", "es-4"}
	patterns := append(slices.Clone(names), "es-*", "!es-4", "[*]:2222", "*", "es-?", knownhosts.HashHostname("es-1"))
	markers := []string{"", "@cert-authority ", "@revoked "}
	rng := rand.New(rand.NewPCG(1, 2))
	var file strings.Builder
	for i := 0; i < 400; i++ {
		var hosts []string
		for k := 0; k < 1+rng.IntN(3); k++ {
			hosts = append(hosts, patterns[rng.IntN(len(patterns))])
		}
		fmt.Fprintf(&file, "%s%s %s", markers[rng.IntN(3)], strings.Join(hosts, ","), ssh.MarshalAuthorizedKey(key))
	}
	d := &db{}
	if err := d.read(strings.NewReader(file.String()), "known_hosts"); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(names, "es-5", "[es-1]:2222") {
		name = strings.ToLower(name)
		for _, marker := range []string{markerNone, markerAuthority, markerRevoked} {
			var want []int
			for _, l := range d.lines {
				if l.marker == marker && hostsMatch(l.hosts, name) {
					want = append(want, l.Line)
				}
			}
			var got []int
			for _, k := range d.matching(marker, name) {
				got = append(got, k.Line)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, marker %q: lines %v, a scan finds %v", name, marker, got, want)
			}
		}
	}
}
