package main

import (
	"fmt"
	"strings"
)

// scaleRow is one cluster's line of the closing table: ours beside pdcp
// and pdsh with curve25519, the key exchange ours negotiates.
type scaleRow struct {
	n                   int
	internalSFTP        bool
	push, pdcp          result
	check, pdsh         result
	haveOther           bool
	pushRatio, chkRatio float64
}

func (s set) row(n int, internalSFTP bool) scaleRow {
	row := scaleRow{n: n, internalSFTP: internalSFTP, push: s.push[0], check: s.check[0]}
	pdcp, okP := find(s.push, "pdcp (curve25519)")
	pdsh, okC := find(s.check, "pdsh sha256sum (curve25519)")
	if okP && okC {
		row.pdcp, row.pdsh, row.haveOther = pdcp, pdsh, true
		row.pushRatio, row.chkRatio = row.push.seconds/pdcp.seconds, row.check.seconds/pdsh.seconds
	}
	return row
}

func find(rs []result, name string) (result, bool) {
	for _, x := range rs {
		if x.name == name {
			return x, true
		}
	}
	return result{}, false
}

// scaleTable prints every cluster's row: wall seconds, ours over theirs,
// our CPU seconds and peak memory, and the whole machine's CPU seconds
// (nodes included) for ours and theirs, for push and for check: medians
// over the rounds, and ratios of medians.
func scaleTable(rows []scaleRow, rounds int) {
	runs := "one run"
	if rounds > 1 {
		runs = fmt.Sprintf("medians of %d rounds, tools' order alternating", rounds)
	}
	fmt.Printf("\nsummary (ours vs pdcp/pdsh with curve25519, same nodes, same fan-out, %s)\n", runs)
	fmt.Printf("  %-6s %-8s | %-38s | %-38s\n", "nodes", "sshd", "push: ours / pdcp = ratio, CPU, peak", "check: ours / pdsh = ratio, CPU, peak")
	for _, r := range rows {
		sftp := "default"
		if r.internalSFTP {
			sftp = "internal"
		}
		fmt.Printf("  %-6d %-8s | %s | %s\n", r.n, sftp, cell(r.push, r.pdcp, r.pushRatio, r.haveOther), cell(r.check, r.pdsh, r.chkRatio, r.haveOther))
	}
}

func cell(ours, other result, ratio float64, have bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.2fs", ours.seconds)
	if have {
		fmt.Fprintf(&b, " / %6.2fs = %.2fx", other.seconds, ratio)
	}
	fmt.Fprintf(&b, ", %5.2fs CPU, %5.1f MiB; machine CPU %.1fs", ours.cpu, float64(ours.maxRSS)/1024, ours.machine)
	if have {
		fmt.Fprintf(&b, " vs %.1fs", other.machine)
	}
	if !ours.ok || (have && !other.ok) {
		b.WriteString(" (a run FAILED, above)")
	}
	return b.String()
}
