package output

import (
	"fmt"
	"io"
	"time"
)

// Progress is the live line a run that reaches nodes draws on a
// terminal: how many nodes are done, the last one and its status, and,
// while nodes remain, the pace so far and the time it leaves. It redraws
// in place and clears itself at the end, so the report that follows
// starts on a clean line.
type Progress struct {
	w     io.Writer
	now   func() time.Time
	width int // the terminal's columns; a longer line would wrap and stay
	// The pace is counted from start, when first nodes were done; a count
	// that starts again is the next batch of a rollout, after a gate.
	start       time.Time
	first, last int
}

// Show draws the line after done of total nodes, the last one node.
func (p *Progress) Show(done, total int, node, status string) {
	if done <= p.last {
		p.start, p.first = p.now(), done
	}
	p.last = done
	line := fmt.Sprintf("[%d/%d] %s %s", done, total, node, status)
	if done < total {
		line += p.pace(done, total)
	}
	if p.width > 1 && len(line) >= p.width {
		line = line[:p.width-1]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	if done == total {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// pace is "; 12.5 nodes/s, about 1m20s left", from the run (or batch) so
// far (nodes go at much the same pace, a fixed number at a time), once it
// can tell.
func (p *Progress) pace(done, total int) string {
	if done-p.first <= 0 {
		return ""
	}
	elapsed := p.now().Sub(p.start)
	if elapsed <= 0 {
		return ""
	}
	rate := float64(done-p.first) / elapsed.Seconds()
	left := time.Duration(float64(total-done) / rate * float64(time.Second))
	return fmt.Sprintf("; %.1f nodes/s, about %v left", rate, left.Round(time.Second))
}

// NewProgress draws on w, a terminal width columns wide (0: unknown),
// with the clock now.
func NewProgress(w io.Writer, width int, now func() time.Time) *Progress {
	return &Progress{w: w, start: now(), now: now, width: width}
}
