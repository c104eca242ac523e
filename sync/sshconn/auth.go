package sshconn

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// Auth finds the keys to log in with: ssh-agent, the configured identity
// files, then the default keys, as OpenSSH tries them.
type Auth struct {
	// AgentSocket is $SSH_AUTH_SOCK; "" means no agent.
	AgentSocket string
	// Home is where the default keys (~/.ssh/id_*) are.
	Home string
	// Ask reads a passphrase from the user's terminal; nil when there is
	// no terminal.
	Ask func(prompt string) ([]byte, error)

	// Now is the clock certificates are checked against; nil is
	// time.Now.
	Now func() time.Time

	mu         sync.Mutex
	agentOnce  sync.Once
	agentKeys  []ssh.Signer
	agentErr   error
	agentConn  net.Conn
	files      map[string]fileKey
	defaultSet []ssh.Signer
	defaultsOK bool
	defaultErr error                // why a default key that exists was not used
	certs      map[string]*userCert // by path
	certFrom   map[string]string    // where each certificate offered came from, by its blob
}

type fileKey struct {
	signer ssh.Signer    // nil when the key cannot be used directly
	public ssh.PublicKey // known even for an encrypted key
	err    error
}

// DefaultIdentities are tried when no identity file is configured.
var DefaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// Prepare loads every identity file the endpoints use, in the calling
// goroutine, so that passphrase prompts come one at a time before nodes
// are contacted in parallel.
func (a *Auth) Prepare(eps []inventory.Endpoint) error {
	for _, ep := range eps {
		if _, err := a.Signers(ep); err != nil {
			return err
		}
	}
	return nil
}

// Signers returns the keys to offer for ep, in order, each certificate
// just before the key it certifies.
func (a *Auth) Signers(ep inventory.Endpoint) ([]ssh.Signer, error) {
	agentKeys := a.agent()
	a.mu.Lock()
	defer a.mu.Unlock()
	keys, err := a.keys(ep, agentKeys)
	if err != nil {
		return nil, err
	}
	return a.withCertificates(ep, keys, agentKeys)
}

// keys are the plain keys (and the agent's certificates) to offer for ep.
func (a *Auth) keys(ep inventory.Endpoint, agentKeys []ssh.Signer) ([]ssh.Signer, error) {
	var out []ssh.Signer
	if len(ep.IdentityFiles) == 0 {
		out = append(out, agentKeys...)
		out = append(out, a.defaults(agentKeys)...)
		if len(out) == 0 && a.defaultErr != nil {
			return nil, a.defaultErr // a default key exists but cannot be used: say why
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no SSH key: start ssh-agent with your key, set identity_file, or create %s", filepath.Join(a.Home, ".ssh", "id_ed25519"))
		}
		return out, nil
	}
	// Agent keys that match a configured file first: they need no
	// passphrase. Then the files themselves. Then, unless IdentitiesOnly,
	// the agent's other keys.
	var matched []ssh.Signer
	used := map[string]bool{}
	for _, path := range ep.IdentityFiles {
		fk := a.file(path, agentKeys)
		if fk.public != nil {
			for _, s := range agentKeys {
				if bytes.Equal(s.PublicKey().Marshal(), fk.public.Marshal()) {
					matched = append(matched, s)
					used[string(s.PublicKey().Marshal())] = true
				}
			}
		}
		if fk.signer != nil {
			out = append(out, fk.signer)
			continue
		}
		if fk.err != nil && !used[string(publicBytes(fk.public))] {
			return nil, fk.err
		}
	}
	out = append(matched, out...)
	if !ep.IdentitiesOnly {
		for _, s := range agentKeys {
			if !used[string(s.PublicKey().Marshal())] {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

func publicBytes(k ssh.PublicKey) []byte {
	if k == nil {
		return nil
	}
	return k.Marshal()
}

func (a *Auth) agent() []ssh.Signer {
	a.agentOnce.Do(func() {
		if a.AgentSocket == "" {
			return
		}
		conn, err := net.Dial("unix", a.AgentSocket)
		if err != nil {
			a.agentErr = err
			return
		}
		a.agentConn = conn
		a.agentKeys, a.agentErr = agent.NewClient(conn).Signers()
	})
	return a.agentKeys
}

// file loads one identity file once. An encrypted key is decrypted with a
// passphrase from the terminal unless the agent already holds it.
func (a *Auth) file(path string, agentKeys []ssh.Signer) fileKey {
	if a.files == nil {
		a.files = map[string]fileKey{}
	}
	if fk, ok := a.files[path]; ok {
		return fk
	}
	fk := loadKey(path, agentKeys, a.Ask)
	a.files[path] = fk
	return fk
}

func loadKey(path string, agentKeys []ssh.Signer, ask func(string) ([]byte, error)) fileKey {
	pem, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fileKey{err: fmt.Errorf("identity file %s does not exist: fix identity_file, or create the key (ssh-keygen -t ed25519 -f %s)", path, safetext.ShellWord(path))}
		}
		return fileKey{err: fmt.Errorf("identity file %s: %v", path, err)}
	}
	if err := permOK(path); err != nil {
		// Like ssh(1), which still uses the agent's copy of such a key.
		return fileKey{public: publicKeyFile(path), err: err}
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err == nil {
		return fileKey{signer: s, public: s.PublicKey()}
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return fileKey{err: fmt.Errorf("identity file %s: %v", path, err)}
	}
	pub := missing.PublicKey
	if pub == nil {
		pub = publicKeyFile(path)
	}
	for _, k := range agentKeys {
		if pub != nil && bytes.Equal(k.PublicKey().Marshal(), pub.Marshal()) {
			return fileKey{public: pub} // the agent signs for it
		}
	}
	if ask == nil {
		return fileKey{public: pub, err: fmt.Errorf("identity file %s is encrypted and no terminal is available to ask its passphrase: load it into ssh-agent (ssh-add %s) and retry", path, safetext.ShellWord(path))}
	}
	for attempt := 0; attempt < 3; attempt++ {
		pass, err := ask(fmt.Sprintf("Enter passphrase for key '%s': ", path))
		if err != nil {
			return fileKey{public: pub, err: fmt.Errorf("identity file %s is encrypted: %v", path, err)}
		}
		s, err := ssh.ParsePrivateKeyWithPassphrase(pem, pass)
		if err == nil {
			return fileKey{signer: s, public: s.PublicKey()}
		}
		if !errors.Is(err, x509.IncorrectPasswordError) {
			return fileKey{public: pub, err: fmt.Errorf("identity file %s: %v", path, err)}
		}
	}
	return fileKey{public: pub, err: fmt.Errorf("identity file %s: wrong passphrase, three times", path)}
}

// publicKeyFile is the key in path.pub, or nil.
func publicKeyFile(path string) ssh.PublicKey {
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil
	}
	pub, _, _, _, _ := ssh.ParseAuthorizedKey(b)
	return pub
}

// permOK refuses a private key that others may read, as OpenSSH's
// sshkey_perm_ok does: a key of the current user with any group or other
// permission bit set is "too open" and not used.
func permOK(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // ReadFile just succeeded; a race is not this check's business
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("identity file %s has mode %04o: a private key readable by others is refused, as OpenSSH does: chmod 600 %s", path, fi.Mode().Perm(), safetext.ShellWord(path))
}

// defaults loads ~/.ssh/id_ed25519, id_ecdsa and id_rsa, skipping keys
// that are missing or that the agent holds already.
func (a *Auth) defaults(agentKeys []ssh.Signer) []ssh.Signer {
	if a.defaultsOK {
		return a.defaultSet
	}
	a.defaultsOK = true
	for _, name := range DefaultIdentities {
		path := filepath.Join(a.Home, ".ssh", name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		fk := a.file(path, agentKeys)
		if fk.signer != nil {
			a.defaultSet = append(a.defaultSet, fk.signer)
		} else if fk.err != nil && a.defaultErr == nil {
			a.defaultErr = fk.err
		}
	}
	return a.defaultSet
}

// Close releases the agent connection.
func (a *Auth) Close() {
	if a.agentConn != nil {
		a.agentConn.Close()
	}
}
