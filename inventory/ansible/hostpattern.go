package ansible

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// maxExpandedHosts bounds range expansion so that a typo such as
// es[0:999999999] fails with an error instead of exhausting memory.
const maxExpandedHosts = 100000

// asciiLetters is Python's string.ascii_letters, the alphabet Ansible walks
// for alphabetic ranges; its order is why [x:B] is valid and [B:x] is not.
const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// splitPort separates a trailing ":port" from a host pattern the way
// Ansible's parse_address does for the cases that occur in inventories:
// "name:22", "10.0.0.1:22", "[::1]:22" and "es[01:03]:22" carry a port; a
// bare IPv6 address such as "fe80::1" does not.
func splitPort(pattern string) (hostPart, port string) {
	// Colons inside [...] belong to ranges or to a bracketed IPv6 address.
	depth, colons, last := 0, 0, -1
	for i, r := range pattern {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				colons++
				last = i
			}
		}
	}
	if colons != 1 {
		return pattern, ""
	}
	hostPart, port = pattern[:last], pattern[last+1:]
	n, err := strconv.Atoi(port)
	if err != nil || port == "" || strings.ContainsAny(port, "+-") || n < 0 || n > 65535 {
		return pattern, ""
	}
	// "[::1]:22": the brackets only delimit the address.
	if strings.HasPrefix(hostPart, "[") && strings.HasSuffix(hostPart, "]") && strings.Count(hostPart, ":") > 1 {
		hostPart = hostPart[1 : len(hostPart)-1]
	}
	return hostPart, strconv.Itoa(n)
}

// expandHostPattern expands Ansible host ranges: "es[01:03]" gives es01,
// es02, es03; "db-[a:c]" gives db-a, db-b, db-c; "[1:9:4]" steps by 4; several
// ranges expand as a cartesian product, leftmost range varying slowest.
func expandHostPattern(pattern string) ([]string, error) {
	// A bare IPv6 address has no range and its colons are not range syntax.
	if !strings.Contains(pattern, "[") {
		return []string{pattern}, nil
	}
	out, err := expand(pattern)
	if err != nil {
		return nil, fmt.Errorf("host pattern %q: %w", safetext.Input(pattern), err)
	}
	return out, nil
}

func expand(s string) ([]string, error) {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return []string{s}, nil
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 {
		return nil, fmt.Errorf("unterminated range, missing ']'")
	}
	j += i
	head, spec, tail := s[:i], s[i+1:j], s[j+1:]
	seq, err := rangeValues(spec)
	if err != nil {
		return nil, err
	}
	tails, err := expand(tail)
	if err != nil {
		return nil, err
	}
	if len(seq)*len(tails) > maxExpandedHosts {
		return nil, fmt.Errorf("expands to more than %d hosts", maxExpandedHosts)
	}
	out := make([]string, 0, len(seq)*len(tails))
	for _, v := range seq {
		for _, t := range tails {
			out = append(out, head+v+t)
		}
	}
	return out, nil
}

// rangeValues follows ansible's expand_hostname_range, except that start >
// end is an error here where Ansible silently yields no host at all.
func rangeValues(spec string) ([]string, error) {
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("range [%s] must be begin:end or begin:end:step", safetext.Input(spec))
	}
	beg, end := bounds[0], bounds[1]
	step := 1
	if len(bounds) == 3 {
		n, err := strconv.Atoi(bounds[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("range [%s] has invalid step %q, want a positive integer", safetext.Input(spec), safetext.Input(bounds[2]))
		}
		step = n
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("range [%s] must specify an end value", safetext.Input(spec))
	}
	if len(beg) == 1 && len(end) == 1 {
		ib, ie := strings.IndexByte(asciiLetters, beg[0]), strings.IndexByte(asciiLetters, end[0])
		if ib >= 0 && ie >= 0 {
			return letterRange(spec, ib, ie, step)
		}
	}
	return numberRange(spec, beg, end, step)
}

// letterRange is a:f, the letters' places in asciiLetters given.
func letterRange(spec string, ib, ie, step int) ([]string, error) {
	if ib > ie {
		return nil, fmt.Errorf("range [%s] starts after its end", safetext.Input(spec))
	}
	var out []string
	for k := ib; k <= ie; k += step {
		out = append(out, asciiLetters[k:k+1])
	}
	return out, nil
}

// numberRange is 1:9, or 01:09 with every number zero-padded to the
// width of begin.
func numberRange(spec, beg, end string, step int) ([]string, error) {
	if !isDigits(beg) || !isDigits(end) {
		return nil, fmt.Errorf("range [%s] must be numeric (1:9) or alphabetic (a:f), not a mix", safetext.Input(spec))
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		width = len(beg)
		if len(end) != width {
			return nil, fmt.Errorf("range [%s] must use the same number of digits for begin and end when zero-padded", safetext.Input(spec))
		}
	}
	ib, err1 := strconv.Atoi(beg)
	ie, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("range [%s] has out-of-range numbers", safetext.Input(spec))
	}
	if ib > ie {
		return nil, fmt.Errorf("range [%s] starts after its end", safetext.Input(spec))
	}
	if (ie-ib)/step >= maxExpandedHosts {
		return nil, fmt.Errorf("expands to more than %d hosts", maxExpandedHosts)
	}
	var out []string
	for k := ib; k <= ie; k += step {
		out = append(out, fmt.Sprintf("%0*d", width, k))
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
