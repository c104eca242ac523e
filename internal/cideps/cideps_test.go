package cideps

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository's top directory, seen from this package's.
const root = "../.."

// packages maps each program the tests run to the Debian package that
// .ci/run must install for it.
var packages = map[string]string{
	"sshd": "openssh-server", "sftp-server": "openssh-server",
	"ssh": "openssh-client", "ssh-keygen": "openssh-client", "ssh-keyscan": "openssh-client", "ssh-agent": "openssh-client", "ssh-add": "openssh-client",
	"sudo":    "sudo",
	"unshare": "util-linux", "nsenter": "util-linux",
	"nc":      "netcat-openbsd", // a ProxyCommand (proxy_command*.txtar)
	"strace":  "strace",         // stall NODE SYSCALL (push_lock_killed.txtar)
	"git":     "git",            // metadata_git_merge.txtar
	"ps":      "procps",         // not in a minimal Debian (secret_scan.txtar)
	"ansible": "ansible-core", "ansible-playbook": "ansible-core", "ansible-inventory": "ansible-core",
	// The consumers' health check that escluster writes ($WORK/es-health)
	// authenticates with curl; no pattern below sees it.
	"curl": "curl",
}

// base are on every Debian system (Essential or Priority: required
// packages), or are the toolchain and the binary under test.
var base = []string{
	"sh", "bash", "sed", "cat", "chgrp", "chmod", "chown", "cp", "head", "ln", "ls", "mkdir", "mkfifo", "mv",
	"rm", "sleep", "touch", "wc", "id", "mount", "umount", "go", "es-service-tokens",
}

var (
	// exec NAME in a scenario, and [exec:NAME] conditions.
	scriptExec = regexp.MustCompile(`(?m)^\s*(?:!\s*)?(?:\[[^\]]*\]\s*)*exec\s+([^\s$]\S*)`)
	scriptCond = regexp.MustCompile(`\[!?exec:([^\]]+)\]`)
	// exec.Command("NAME" and exec.LookPath("NAME") in Go tests and harnesses.
	goExec = regexp.MustCompile(`exec\.(?:Command|CommandContext|LookPath)\((?:ctx, )?"([^"]+)"`)
)

// TestCIInstallsEveryProgramTestsRun finds the programs the tests run
// and fails for one that is neither on every Debian system nor installed
// by .ci/run before it runs the tests.
func TestCIInstallsEveryProgramTestsRun(t *testing.T) {
	installed := ciPackages(t)
	used := programsUsed(t)
	for prog, where := range used {
		if slices.Contains(base, prog) {
			continue
		}
		if _, ok := packages[prog]; !ok {
			t.Errorf("%s runs %s: add it to packages here, with its Debian package, and install that in .ci/run", where, prog)
		}
	}
	for prog, pkg := range packages {
		if !slices.Contains(installed, pkg) {
			t.Errorf("the tests run %s, from Debian's %s, which .ci/run does not install before the tests", prog, pkg)
		}
	}
}

// ciPackages are the packages .ci/run's apt-get install lines name before
// the line that runs the tests.
func ciPackages(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	script := strings.ReplaceAll(string(b), "\\\n", " ") // continued lines
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "go test ") {
			return pkgs
		}
		if rest, ok := strings.CutPrefix(line, "apt-get install "); ok {
			for _, w := range strings.Fields(rest) {
				if !strings.HasPrefix(w, "-") {
					pkgs = append(pkgs, w)
				}
			}
		}
	}
	t.Fatal(".ci/run has no go test line")
	return nil
}

// programsUsed maps each program the scenarios, Go tests and test
// harnesses run to one file that runs it.
func programsUsed(t *testing.T) map[string]string {
	used := map[string]string{}
	add := func(prog, file string) {
		if _, ok := used[filepath.Base(prog)]; !ok {
			used[filepath.Base(prog)] = file
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			if err == nil {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == filepath.Join("internal", "cideps") {
			return filepath.SkipDir // its own patterns
		}
		harness := strings.HasPrefix(rel, filepath.Join("internal", "testkit")) && strings.HasSuffix(path, ".go")
		switch {
		case strings.HasSuffix(path, ".txtar"):
			text := readFile(t, path)
			for _, m := range scriptExec.FindAllStringSubmatch(text, -1) {
				add(m[1], rel)
			}
			for _, m := range scriptCond.FindAllStringSubmatch(text, -1) {
				add(m[1], rel)
			}
		case strings.HasSuffix(path, "_test.go") || harness:
			for _, m := range goExec.FindAllStringSubmatch(readFile(t, path), -1) {
				add(m[1], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 10 {
		t.Fatalf("found only %d programs the tests run: the patterns no longer match", len(used))
	}
	return used
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
