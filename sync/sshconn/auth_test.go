package sshconn

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// keyFile writes an ed25519 key to dir/name: a fresh one in the clear, or,
// with the passphrase "s3cret", testdata/id_ed25519_s3cret. That one was
// made by `ssh-keygen -a 1`: one bcrypt_pbkdf round instead of OpenSSH's
// 16 (x/crypto's MarshalPrivateKeyWithPassphrase has no other), which cost
// a fifth of a second of CPU per decryption, and the tests decrypt often.
// The rounds come from the file, so the code path is the same.
func keyFile(t *testing.T, dir, name, passphrase string) (string, ed25519.PrivateKey) {
	t.Helper()
	p := filepath.Join(dir, name)
	if passphrase != "" {
		if passphrase != "s3cret" {
			t.Fatalf("testdata holds a key for the passphrase s3cret only, not %q", passphrase)
		}
		data, err := os.ReadFile("testdata/id_ed25519_s3cret")
		if err != nil {
			t.Fatal(err)
		}
		key, err := ssh.ParseRawPrivateKeyWithPassphrase(data, []byte(passphrase))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p, *key.(*ed25519.PrivateKey)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, priv
}

func fingerprints(ss []ssh.Signer) []string {
	var out []string
	for _, s := range ss {
		out = append(out, ssh.FingerprintSHA256(s.PublicKey()))
	}
	return out
}

func fp(priv ed25519.PrivateKey) string {
	s, _ := ssh.NewSignerFromKey(priv)
	return ssh.FingerprintSHA256(s.PublicKey())
}

func TestEncryptedKeyAsksOnceOnTheTerminal(t *testing.T) {
	dir := t.TempDir()
	path, priv := keyFile(t, dir, "id", "s3cret")
	asked := 0
	a := &Auth{Home: dir, Ask: func(prompt string) ([]byte, error) {
		asked++
		if !strings.Contains(prompt, path) {
			t.Errorf("prompt %q does not name the key", prompt)
		}
		if asked == 1 {
			return []byte("wrong"), nil
		}
		return []byte("s3cret"), nil
	}}
	ep := inventory.Endpoint{IdentityFiles: []string{path}}
	for i := 0; i < 3; i++ { // many nodes, one prompt
		ss, err := a.Signers(ep)
		if err != nil || len(ss) != 1 || fingerprints(ss)[0] != fp(priv) {
			t.Fatalf("Signers = %v, %v", fingerprints(ss), err)
		}
	}
	if asked != 2 {
		t.Errorf("asked %d times, want 2 (one wrong passphrase, then the right one)", asked)
	}
}

func TestEncryptedKeyWithoutTerminalSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	path, _ := keyFile(t, dir, "id", "s3cret")
	_, err := (&Auth{Home: dir}).Signers(inventory.Endpoint{IdentityFiles: []string{path}})
	if err == nil || !strings.Contains(err.Error(), "ssh-add "+path) {
		t.Errorf("err = %v, want advice to use ssh-add", err)
	}
	_, err = (&Auth{Home: dir, Ask: func(string) ([]byte, error) { return []byte("no"), nil }}).Signers(inventory.Endpoint{IdentityFiles: []string{path}})
	if err == nil || !strings.Contains(err.Error(), "wrong passphrase, three times") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingIdentityFileIsAnError(t *testing.T) {
	_, err := (&Auth{Home: t.TempDir()}).Signers(inventory.Endpoint{IdentityFiles: []string{"/nonexistent/id"}})
	if err == nil || !strings.Contains(err.Error(), "identity file /nonexistent/id does not exist") {
		t.Errorf("err = %v", err)
	}
}

// serveAgent runs an ssh-agent holding keys on a unix socket.
func serveAgent(t *testing.T, keys ...ed25519.PrivateKey) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go agent.ServeAgent(kr, c)
		}
	}()
	return sock
}

// The agent signs for an encrypted identity file it holds: no passphrase.
// Its key comes first, then, unless IdentitiesOnly, the agent's others.
func TestAgentOrderAndIdentitiesOnly(t *testing.T) {
	dir := t.TempDir()
	path, mine := keyFile(t, dir, "id", "s3cret")
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	a := &Auth{Home: dir, AgentSocket: serveAgent(t, other, mine), Ask: func(string) ([]byte, error) {
		return nil, errors.New("must not ask")
	}}
	defer a.Close()
	ss, err := a.Signers(inventory.Endpoint{IdentityFiles: []string{path}})
	if err != nil || len(ss) != 2 || fingerprints(ss)[0] != fp(mine) || fingerprints(ss)[1] != fp(other) {
		t.Fatalf("Signers = %v, %v; want [mine other]", fingerprints(ss), err)
	}
	ss, err = a.Signers(inventory.Endpoint{IdentityFiles: []string{path}, IdentitiesOnly: true})
	if err != nil || len(ss) != 1 || fingerprints(ss)[0] != fp(mine) {
		t.Fatalf("IdentitiesOnly: %v, %v; want [mine]", fingerprints(ss), err)
	}
}

func TestDefaultKeys(t *testing.T) {
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	_, def := keyFile(t, filepath.Join(home, ".ssh"), "id_ed25519", "")
	ss, err := (&Auth{Home: home}).Signers(inventory.Endpoint{})
	if err != nil || len(ss) != 1 || fingerprints(ss)[0] != fp(def) {
		t.Fatalf("Signers = %v, %v", fingerprints(ss), err)
	}
	if _, err := (&Auth{Home: t.TempDir()}).Signers(inventory.Endpoint{}); err == nil || !strings.Contains(err.Error(), "no SSH key") {
		t.Errorf("no keys at all: %v", err)
	}
}

// A private key that others may read is refused like ssh(1) does, naming
// the file and the fix; the same key with mode 0600 is used. A default key
// refused so is the reason given, not "no SSH key".
func TestKeyReadableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	path, priv := keyFile(t, dir, "id", "")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Auth{Home: dir}
	_, err := a.Signers(inventory.Endpoint{IdentityFiles: []string{path}})
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("error %v, want a refusal naming %s, its mode and chmod 600", err, path)
	}

	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	def, _ := keyFile(t, filepath.Join(home, ".ssh"), "id_ed25519", "")
	os.Chmod(def, 0o640)
	_, err = (&Auth{Home: home}).Signers(inventory.Endpoint{})
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+def) {
		t.Fatalf("default key: error %v, want chmod 600 %s", err, def)
	}

	os.Chmod(path, 0o600)
	ss, err := (&Auth{Home: dir}).Signers(inventory.Endpoint{IdentityFiles: []string{path}})
	if err != nil || len(ss) != 1 || fingerprints(ss)[0] != fp(priv) {
		t.Fatalf("mode 0600: %v %v", fingerprints(ss), err)
	}
}

func TestMissingIdentityFileNamesTheFix(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := (&Auth{}).Signers(inventory.Endpoint{IdentityFiles: []string{missing}})
	if err == nil || !strings.Contains(err.Error(), missing+" does not exist: fix identity_file, or create the key") {
		t.Fatalf("error %v", err)
	}
}
