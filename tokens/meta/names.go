package meta

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// A token holds one secret, so a rotation makes a new token: the base name
// plus the UTC time of the rotation, -YYYYMMDDTHHMMSSZ, replacing the
// suffix of an earlier rotation. Every token of one lineage therefore
// shares the base name, which is how an inventory's consumer, naming the
// token it was first given, finds the one it uses now.
const suffixLayout = "20060102T150405Z"

var suffixRE = regexp.MustCompile(`-[0-9]{8}T[0-9]{6}Z$`)

// maxName is Elasticsearch's longest token name.
const maxName = 256

// Base is name without a rotation suffix.
func Base(name string) string {
	if b := suffixRE.ReplaceAllString(name, ""); b != "" {
		return b
	}
	return name
}

// Lineage is a qualified token name without its rotation suffix: the same
// for a token and every successor of it.
func Lineage(qualified string) string {
	p, n, ok := tokens.SplitQualifiedName(qualified)
	if !ok {
		return qualified
	}
	return p + "/" + Base(n)
}

// SuccessorName is the name of the token that replaces name, rotated at
// at: its base plus at's suffix, the base shortened if the whole would
// pass Elasticsearch's 256 characters.
func SuccessorName(name string, at time.Time) string {
	suffix := "-" + at.UTC().Format(suffixLayout)
	base := Base(name)
	if len(base)+len(suffix) > maxName {
		base = base[:maxName-len(suffix)]
	}
	return base + suffix
}

// ParseAge reads an age or a duration: Go's form (36h, 1h30m), a number
// of seconds (3600), or days and weeks (90d, 12w, 1w2d), as token ages
// are counted. It refuses a negative or zero age.
func ParseAge(s string) (time.Duration, error) {
	d, err := parseAge(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an age: give days (90d), weeks (12w), hours (36h) or seconds (3600)", safetext.Input(s))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: give an age above zero", safetext.Input(s))
	}
	return d, nil
}

var dayWeekRE = regexp.MustCompile(`^(?:([0-9]+)w)?(?:([0-9]+)d)?(.*)$`)

func parseAge(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	m := dayWeekRE.FindStringSubmatch(s)
	if m == nil || m[1] == "" && m[2] == "" {
		return time.ParseDuration(s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, err
			}
			d += time.Duration(n) * unit
		}
	}
	if m[3] != "" {
		rest, err := time.ParseDuration(m[3])
		if err != nil {
			return 0, err
		}
		d += rest
	}
	return d, nil
}

// FormatAge is an age as list and check show it: whole days from one day
// on (97d), else hours, minutes or seconds.
func FormatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s" // a clock that went back; the record is not from the future
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
