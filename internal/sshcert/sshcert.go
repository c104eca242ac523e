// Package sshcert says when an OpenSSH certificate (user or host) is
// valid, in the words ssh-keygen -L uses, with times in UTC: the one
// wording of a validity window for every message that names one.
package sshcert

import (
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// Outside says why cert cannot be used at now, without a remedy: "expired
// at T (valid from A to B)" (expired is true) or "is not valid yet (valid
// from A to B; now T)"; "" within its window.
func Outside(cert *ssh.Certificate, now time.Time) (why string, expired bool) {
	t := uint64(max(now.Unix(), 0))
	switch {
	case t < cert.ValidAfter:
		return fmt.Sprintf("is not valid yet (valid %s; now %s)", Window(cert), Time(t)), false
	case cert.ValidBefore != ssh.CertTimeInfinity && t >= cert.ValidBefore:
		return fmt.Sprintf("expired at %s (valid %s)", Time(cert.ValidBefore), Window(cert)), true
	}
	return "", false
}

// Window is a certificate's validity as ssh-keygen -L says it: "forever",
// "before T", "after T" or "from A to B".
func Window(cert *ssh.Certificate) string {
	forever := cert.ValidBefore == ssh.CertTimeInfinity
	switch {
	case cert.ValidAfter == 0 && forever:
		return "forever"
	case cert.ValidAfter == 0:
		return "before " + Time(cert.ValidBefore)
	case forever:
		return "after " + Time(cert.ValidAfter)
	}
	return "from " + Time(cert.ValidAfter) + " to " + Time(cert.ValidBefore)
}

// Time is a certificate time (Unix seconds) in UTC, as 2006-01-02T15:04:05Z.
func Time(t uint64) string {
	if t > 1<<62 {
		return "the end of time"
	}
	return time.Unix(int64(t), 0).UTC().Format("2006-01-02T15:04:05Z")
}
