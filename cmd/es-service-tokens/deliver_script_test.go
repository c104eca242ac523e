package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// consumersCmd is the script command
//
//	consumers M
//
// It starts M real sshd machines for consumers (kb-1 ... kb-M) and sets
// KB_KEY and KB_KNOWN_HOSTS (how to log in to them), KBi_HOST, KBi_PORT
// and KBi_DIR: a directory machine i sees at the same path, holding
// bin/kibana-keystore, a stand-in that keeps its settings in
// KBi_DIR/kibana.keystore (created empty).
func consumersCmd(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("consumers", flag.ContinueOnError)
	ts.Check(fs.Parse(args))
	if neg || fs.NArg() != 1 {
		ts.Fatalf("usage: consumers M")
	}
	var m int
	fmt.Sscan(fs.Arg(0), &m)
	c := sshdtest.Start(scriptTB{ts}, sshdtest.Options{Nodes: m, NamePrefix: "kb-"})
	for i, n := range c.Nodes {
		dir := filepath.Join(ts.Getenv("WORK"), n.Name)
		ts.Check(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
		ts.Check(os.WriteFile(filepath.Join(dir, "bin", "kibana-keystore"), []byte(sshdtest.KibanaKeystore), 0o755))
		ts.Check(os.WriteFile(filepath.Join(dir, "kibana.keystore"), nil, 0o600))
		ts.Setenv(fmt.Sprintf("KB%d_HOST", i+1), n.Host)
		ts.Setenv(fmt.Sprintf("KB%d_PORT", i+1), fmt.Sprint(n.Port))
		ts.Setenv(fmt.Sprintf("KB%d_DIR", i+1), dir)
	}
	ts.Setenv("KB_KEY", c.ClientKeyFile)
	ts.Setenv("KB_KNOWN_HOSTS", c.KnownHostsFile)
	ts.Value("state").(*scriptState).consumers = c
}

// appendCmd is "append IN FILE": FILE gets IN with $VARIABLES replaced
// added at its end (a consumers: section for cluster.yml).
func appendCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: append IN FILE")
	}
	in := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	f, err := os.OpenFile(ts.MkAbs(args[1]), os.O_APPEND|os.O_WRONLY, 0)
	ts.Check(err)
	defer f.Close()
	_, err = f.WriteString(in)
	ts.Check(err)
}

// secretCmd is "secret FILE [KEY]": the bearer token in FILE (its whole
// content, or the value of its KEY= line) is one that nosecret looks for.
func secretCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: secret FILE [KEY]")
	}
	text := ts.ReadFile(args[0])
	bearer := strings.TrimSpace(text)
	if len(args) == 2 {
		bearer = ""
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(l, args[1]+"="); ok {
				bearer = strings.TrimSpace(v)
			}
		}
	}
	tok, err := tokens.ParseBearer(bearer)
	if err != nil {
		ts.Fatalf("%s holds no bearer token: %v", args[0], err)
	}
	st := ts.Value("state").(*scriptState)
	st.secrets = append(st.secrets, bearer, tok.Secret)
}

// nosecretCmd is "nosecret FILE...": no secret that secret recorded is in
// any FILE. stdout and stderr are the last command's; sshd-logs are the
// logs of every sshd of the script, nodes and consumers.
func nosecretCmd(ts *testscript.TestScript, neg bool, args []string) {
	st := ts.Value("state").(*scriptState)
	if neg || len(args) == 0 || len(st.secrets) == 0 {
		ts.Fatalf("usage: nosecret FILE... (after secret)")
	}
	for _, a := range args {
		texts := map[string]string{}
		if a == "sshd-logs" {
			for _, c := range []*sshdtest.Cluster{st.cluster, st.consumers} {
				if c != nil {
					for _, n := range c.Nodes {
						texts[n.Name+"'s sshd log"] = n.Log()
					}
				}
			}
		} else {
			texts[a] = ts.ReadFile(a)
		}
		for name, text := range texts {
			for _, s := range st.secrets {
				if strings.Contains(text, s) {
					ts.Fatalf("%s holds a delivered secret", name)
				}
			}
		}
	}
}
