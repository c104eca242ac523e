package sshconn

import (
	"errors"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// KeyError is a key (or certificate) of a node or a consumer's machine
// that cannot be used, named with the node, bastion or consumer that uses
// it and the inventory line that set it: found before any connection.
type KeyError struct {
	Where string // "node es-1, bastion 10.0.0.1:22", "node es-1 (identity_file set at FILE:LINE)", "consumer kb-1"
	Err   error
}

func (e *KeyError) Error() string { return e.Phrase(nil) }

// Phrase is the error with the options its cause names in the caller's
// words.
func (e *KeyError) Phrase(n remedy.Namer) string { return e.Where + ": " + remedy.Phrase(e.Err, n) }

func (e *KeyError) Unwrap() error { return e.Err }

// PrepareNodes loads the keys of nodes and their bastions node by node
// (Prepare), so that a bad one is reported with the node that uses it. On
// an error the agent, which Prepare may have reached, is closed.
func (a *Auth) PrepareNodes(nodes []*inventory.Node) error {
	for _, n := range nodes {
		for _, j := range n.Jump {
			if err := a.Prepare([]inventory.Endpoint{j}); err != nil {
				a.Close()
				return &KeyError{Where: "node " + n.Name + ", bastion " + j.Address(), Err: err}
			}
		}
		if err := a.Prepare([]inventory.Endpoint{n.Endpoint}); err != nil {
			a.Close()
			return &KeyError{Where: "node " + n.Name + keyOrigin(n, err), Err: err}
		}
	}
	return nil
}

// keyOrigin is where the inventory set the key that failed.
func keyOrigin(n *inventory.Node, err error) string {
	var ce *CertificateError
	switch {
	case errors.As(err, &ce) && len(n.CertificateFiles) > 0:
		return " (certificate_file set at " + n.Origin["certificate_file"] + ")"
	case n.Origin["identity_file"] != "" && len(n.IdentityFiles) > 0:
		return " (identity_file set at " + n.Origin["identity_file"] + ")"
	}
	return ""
}

// PrepareConsumers loads the keys of each consumer's machine and its
// bastions, naming the consumer whose key is bad.
func (a *Auth) PrepareConsumers(cs []*inventory.Consumer) error {
	for _, c := range cs {
		eps := append(append([]inventory.Endpoint{}, c.Host.Jump...), c.Host.Endpoint)
		if err := a.Prepare(eps); err != nil {
			return &KeyError{Where: "consumer " + c.Name, Err: err}
		}
	}
	return nil
}
