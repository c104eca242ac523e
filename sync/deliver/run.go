package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// maxOutput bounds what is kept of a command's output.
const maxOutput = 64 << 10

// remoteError is a command that ran and failed; stderr is its last words,
// scrubbed of the secret and kept to one short line.
type remoteError struct {
	status int // -1: ended without a status (a signal)
	stderr string
}

func (e *remoteError) Error() string {
	what := fmt.Sprintf("exited %d", e.status)
	if e.status < 0 {
		what = "ended without an exit status"
	}
	if e.stderr == "" {
		return what
	}
	return what + ": " + e.stderr
}

// run runs cmd in the login shell of client's machine with stdin on its
// standard input and returns its standard output. cmd never holds the
// secret: it goes on stdin only. Output quoted in an error is scrubbed of
// bearer, in case the command echoes what it read.
func run(ctx context.Context, client *ssh.Client, cmd string, stdin []byte, bearer string) ([]byte, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, failure.New(failure.ConnectionLost, fmt.Errorf("cannot open a session: %w", err))
	}
	defer s.Close()
	var out, errb limited
	s.Stdin, s.Stdout, s.Stderr = bytes.NewReader(stdin), &out, &errb
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		s.Signal(ssh.SIGKILL)
		s.Close()
		return nil, ctx.Err()
	}
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &ee):
		return out.Bytes(), &remoteError{status: ee.ExitStatus(), stderr: lastLine(errb.scrubbed(bearer))}
	case errors.As(err, &missing):
		return out.Bytes(), &remoteError{status: -1, stderr: lastLine(errb.scrubbed(bearer))}
	case err != nil:
		return nil, err
	}
	return out.Bytes(), nil
}

// limited keeps the first maxOutput bytes written to it. Its buffer is
// not embedded: a bytes.Buffer's ReadFrom, which io.Copy (and so the SSH
// session) prefers to Write, would keep everything.
type limited struct {
	buf bytes.Buffer
	cut bool // more was written than kept
}

func (l *limited) Write(p []byte) (int, error) {
	room := maxOutput - l.buf.Len()
	if len(p) > room {
		l.cut = true
	}
	if room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Bytes is what was kept.
func (l *limited) Bytes() []byte { return l.buf.Bytes() }

// scrubbed is what was kept, without bearer or its secret. When the
// output was cut, a secret may run across the cut, where no whole copy
// of it is left to find: whatever could be its start goes too.
func (l *limited) scrubbed(bearer string) string {
	b := l.buf.Bytes()
	if l.cut {
		b = b[:max(0, len(b)-len(bearer))]
	}
	return scrub(string(b), bearer)
}

// lastLine is the last non-empty line of s, escaped and bounded: what a
// failing command says last is usually why.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	return safetext.Escape(l)
}

// scrub takes the bearer, and its secret alone, out of s.
func scrub(s, bearer string) string {
	if bearer == "" {
		return s
	}
	s = strings.ReplaceAll(s, bearer, "[secret]")
	if tok, err := tokens.ParseBearer(bearer); err == nil && len(tok.Secret) >= 8 {
		s = strings.ReplaceAll(s, tok.Secret, "[secret]")
	}
	return s
}

// activate restarts c and waits for its health check. Their output is
// scrubbed of bearer too: a health check may well read the secret.
func (d *Deliverer) activate(ctx context.Context, client *ssh.Client, c *inventory.Consumer, bearer string, r *Result) {
	if c.Restart != "" {
		start := time.Now()
		rctx, cancel := d.stepContext(ctx)
		_, err := run(rctx, client, c.Restart, nil, bearer)
		r.Phases = append(r.Phases, Phase{StepRestart, time.Since(start).Seconds()})
		if err != nil {
			kind, reason := failure.Describe(rctx, err)
			cancel()
			r.Step, r.Failure, r.Reason = StepRestart, kind, reason.String()+"; it holds the new secret but was not restarted"
			return
		}
		cancel()
	}
	r.Restarted = true
	if c.Health == "" {
		r.Healthy = true
		return
	}
	start := time.Now()
	attempts, err := health(ctx, client, c, bearer)
	r.HealthAttempts = attempts
	r.Phases = append(r.Phases, Phase{StepHealth, time.Since(start).Seconds()})
	switch {
	case err != nil && ctx.Err() != nil:
		// The run was stopped (Ctrl-C), not the check's time: saying it
		// ran out would send the admin to raise a timeout for nothing.
		r.Step, r.Failure, r.Reason = StepHealth, failure.Interrupted, fmt.Sprintf("interrupted after %.1fs (%d attempts); it holds the new secret", time.Since(start).Seconds(), attempts)
		return
	case err != nil:
		r.Step, r.Failure, r.Reason = StepHealth, failure.Timeout, fmt.Sprintf("no success in %s (%d attempts; last: %v); it holds the new secret", c.HealthTimeout, attempts, err)
		return
	}
	r.Healthy = true
}

// Health checks are retried quickly at first, then every few seconds.
const (
	firstHealthWait = 250 * time.Millisecond
	maxHealthWait   = 5 * time.Second
)

// health runs c's health command until it exits 0 or c.HealthTimeout
// passes; it returns the attempts made and the last failure.
func health(ctx context.Context, client *ssh.Client, c *inventory.Consumer, bearer string) (int, error) {
	hctx, cancel := context.WithTimeout(ctx, c.HealthTimeout)
	defer cancel()
	wait := firstHealthWait
	for attempt := 1; ; attempt++ {
		_, err := run(hctx, client, c.Health, nil, bearer)
		if err == nil {
			return attempt, nil
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return attempt, errors.New("still running when the time ran out")
		}
		t := time.NewTimer(wait)
		select {
		case <-hctx.Done():
			t.Stop()
			return attempt, err
		case <-t.C:
		}
		wait = min(2*wait, maxHealthWait)
	}
}
