package inventory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
)

// ansibleVars maps Ansible connection variables, and this tool's own
// es_service_tokens_* variables, to node settings. Earlier names win over
// the legacy aliases after them.
var ansibleVars = []struct {
	key   string
	names []string
}{
	{"host", []string{"ansible_host", "ansible_ssh_host"}},
	{"port", []string{"ansible_port", "ansible_ssh_port"}},
	{"user", []string{"ansible_user", "ansible_ssh_user"}},
	{"identity_file", []string{"ansible_ssh_private_key_file", "ansible_private_key_file"}},
	{"sudo", []string{"ansible_become"}},
	{"path", []string{"es_service_tokens_path"}},
	{"owner", []string{"es_service_tokens_owner"}},
	{"group", []string{"es_service_tokens_group"}},
	{"mode", []string{"es_service_tokens_mode"}},
	{"sftp_server", []string{"es_service_tokens_sftp_server"}},
	{"known_hosts", []string{"es_service_tokens_known_hosts"}},
	{"host_key_check", []string{"es_service_tokens_host_key_check"}},
	{"connect_timeout", []string{"es_service_tokens_connect_timeout", "ansible_ssh_timeout", "ansible_timeout"}},
}

// loadAnsible reads an Ansible YAML inventory as it is.
func (r *resolver) loadAnsible(path string, data []byte) (*Inventory, error) {
	ai, err := ansible.Parse(path, data)
	if err != nil {
		var ae *ansible.Error
		if errors.As(err, &ae) {
			return nil, &Error{File: ae.File, Line: ae.Line, Msg: ae.Msg}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	inv := &Inventory{File: path, Format: "ansible", Groups: map[string][]string{}}
	r.warnings = append(r.warnings, ai.Warnings...)
	for g, members := range ai.Groups {
		if g == "all" || len(members) == 0 {
			continue // every node is in all; --limit all means every node anyway
		}
		inv.Groups[g] = append([]string(nil), members...)
	}
	for _, h := range ai.Hosts {
		l, err := r.ansibleLayer(h)
		if err != nil {
			return nil, err
		}
		n, err := r.node(h.Name, []layer{l}, r.ssh)
		if err != nil {
			return nil, err
		}
		inv.Nodes = append(inv.Nodes, n)
	}
	return inv, finish(inv)
}

func (r *resolver) ansibleLayer(h ansible.Host) (layer, error) {
	l := layer{}
	origin := func(v ansible.Var) string { return fmt.Sprintf("%s:%d (%s)", v.File, v.Line, v.Source) }
	for _, m := range ansibleVars {
		for _, name := range m.names {
			v, ok := h.Vars[name]
			if !ok {
				continue
			}
			if v.Node != nil && v.Node.Tag == "!vault" {
				return nil, &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("host %s: vault-encrypted values are not supported; give a plain value", h.Name)}
			}
			if strings.Contains(v.Value, "{{") {
				return nil, &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("host %s: Jinja templates are not evaluated; give a plain value", h.Name)}
			}
			l[m.key] = setting{value: v.Value, origin: origin(v), file: v.File, line: v.Line}
			break
		}
	}
	if v, ok := h.Vars["ansible_become_user"]; ok && v.Value != "root" {
		return nil, &Error{File: v.File, Line: v.Line, Key: "ansible_become_user", Msg: fmt.Sprintf("host %s: only root is supported (sudo runs sftp-server as root)", h.Name)}
	}
	if v, ok := h.Vars["ansible_become_method"]; ok && v.Value != "sudo" {
		return nil, &Error{File: v.File, Line: v.Line, Key: "ansible_become_method", Msg: fmt.Sprintf("host %s: only sudo is supported", h.Name)}
	}
	if v, ok := h.Vars["ansible_connection"]; ok && v.Value != "ssh" && v.Value != "paramiko" && v.Value != "smart" {
		r.warnOnce(fmt.Sprintf("%s:%d: ansible_connection=%s is ignored; es-service-tokens always connects over SSH", v.File, v.Line, v.Value))
	}
	for _, name := range []string{"ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass"} {
		if v, ok := h.Vars[name]; ok {
			r.warnOnce(fmt.Sprintf("%s:%d: %s is ignored; es-service-tokens logs in with keys and needs passwordless sudo", v.File, v.Line, name))
		}
	}
	for _, name := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		v, ok := h.Vars[name]
		if !ok {
			continue
		}
		jump, ignored := proxyJumpFrom(v.Value)
		if jump != "" {
			if _, set := l["jump"]; !set {
				l["jump"] = setting{value: jump, list: strings.Split(jump, ","), origin: origin(v), file: v.File, line: v.Line}
			}
		}
		if len(ignored) > 0 {
			r.warnOnce(fmt.Sprintf("%s:%d: %s: only -o ProxyJump=... is used; ignored: %s", v.File, v.Line, name, strings.Join(ignored, " ")))
		}
	}
	return l, nil
}

// proxyJumpFrom finds -o ProxyJump=X (or -J X) in ssh arguments and
// returns everything else as ignored.
func proxyJumpFrom(args string) (jump string, ignored []string) {
	f := strings.Fields(strings.NewReplacer(`"`, "", `'`, "").Replace(args))
	for i := 0; i < len(f); i++ {
		a := f[i]
		switch {
		case a == "-J" && i+1 < len(f):
			jump = f[i+1]
			i++
		case a == "-o" && i+1 < len(f):
			if k, v, ok := cutOption(f[i+1]); ok && strings.EqualFold(k, "ProxyJump") {
				jump = v
			} else {
				ignored = append(ignored, a+" "+f[i+1])
			}
			i++
		case strings.HasPrefix(a, "-o"):
			if k, v, ok := cutOption(a[2:]); ok && strings.EqualFold(k, "ProxyJump") {
				jump = v
			} else {
				ignored = append(ignored, a)
			}
		default:
			ignored = append(ignored, a)
		}
	}
	return jump, ignored
}

func cutOption(s string) (string, string, bool) {
	if k, v, ok := strings.Cut(s, "="); ok {
		return k, v, true
	}
	return "", "", false
}
