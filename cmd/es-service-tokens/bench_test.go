package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// The benchmarks run the real commands on a file of 10,000 tokens. One
// PBKDF2_STRETCH hash is the floor of create: compare the two in one run.

func tenThousandTokens(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	var sb strings.Builder
	h, _ := tokens.DefaultAlgorithm.Hash("benchmark-secret", rand.Reader)
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "elastic/fleet-server/token-%05d:%s\n", i, h)
	}
	if err := os.WriteFile(filepath.Join(dir, "service_tokens"), []byte(sb.String()), 0o660); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkCreate10k(b *testing.B) {
	dir := tenThousandTokens(b)
	env := func(k string) string { return map[string]string{"ES_PATH_CONF": dir}[k] }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := run([]string{"es-service-tokens", "create", "elastic/kibana", fmt.Sprintf("new-%d", i)}, nil, io.Discard, io.Discard, env); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

func BenchmarkList10k(b *testing.B) {
	dir := tenThousandTokens(b)
	env := func(k string) string { return map[string]string{"ES_PATH_CONF": dir}[k] }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := run([]string{"es-service-tokens", "list"}, nil, io.Discard, io.Discard, env); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

func BenchmarkPBKDF2StretchHash(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := tokens.DefaultAlgorithm.Hash("aX3kQ9-Lm2Zt_Rb7Wc0pYw", rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}
