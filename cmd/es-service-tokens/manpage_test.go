package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
)

// The packages install the page that `es-service-tokens man` prints, so it
// is generated, never checked in; this test fails when the page would
// miss a command or an option that --help shows, or stop being
// reproducible (the packages are built twice to the same bytes).
func TestManPageCoversEveryCommandAndFlag(t *testing.T) {
	tl := &tool{stdout: io.Discard, stderr: io.Discard}
	page, err := cmdline.ManPage(tl.commands())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := cmdline.ManPage(tl.commands())
	if page != again {
		t.Error("two renderings of the man page differ")
	}
	if !strings.Contains(page, "\n.TH es-service-tokens 1\n") {
		t.Errorf("no .TH es-service-tokens 1 header in:\n%.200s", page)
	}
	app := tl.app()
	checkFlags := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				if !strings.Contains(page, dash+n) {
					t.Errorf("the man page lacks %s's option %s%s", where, dash, n)
				}
			}
		}
	}
	checkFlags("the global", app.VisibleFlags())
	for _, c := range app.VisibleCommands() {
		if !strings.Contains(page, "\n.SS "+c.Name+"\n") {
			t.Errorf("the man page has no section for the %s command", c.Name)
		}
		if !strings.Contains(page, c.Usage) {
			t.Errorf("the man page lacks %s's summary %q", c.Name, c.Usage)
		}
		checkFlags(c.Name, c.VisibleFlags())
	}
	for _, sec := range []string{"EXIT STATUS", "ENVIRONMENT", "FILES", "AUDIT TRAIL"} {
		if !strings.Contains(page, "\n.SH "+sec+"\n") {
			t.Errorf("the man page has no %s section", sec)
		}
	}
}
