package ansible

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// varsExtensions are the suffixes Ansible's host_group_vars plugin accepts
// (C.YAML_FILENAME_EXTENSIONS); files without an extension are accepted too.
var varsExtensions = []string{".yml", ".yaml", ".json"}

// loadVarsDirs reads group_vars/ and host_vars/ next to the inventory for
// every group and host it defines.
func (p *parser) loadVarsDirs(base string) error {
	groupNames := make([]string, 0, len(p.groups))
	for name := range p.groups {
		groupNames = append(groupNames, name)
	}
	// Sorted so that, when several files are broken, the reported one does
	// not change from run to run.
	sort.Strings(groupNames)
	if ok, err := p.varsDir(base, "group_vars"); err != nil {
		return err
	} else if ok {
		for _, name := range groupNames {
			if err := p.vault.loadEntityVars(base, "group_vars", name, p.groups[name].fileVars); err != nil {
				return err
			}
		}
	}
	if ok, err := p.varsDir(base, "host_vars"); err != nil {
		return err
	} else if ok {
		for _, h := range p.hostOrder {
			if err := p.vault.loadEntityVars(base, "host_vars", h.name, h.fileVars); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) varsDir(base, sub string) (bool, error) {
	dir := filepath.Join(base, sub)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, &Error{File: dir, Msg: err.Error()}
	case !fi.IsDir():
		p.warnings = append(p.warnings, fmt.Sprintf("%s: Found %s that is not a directory, skipping", dir, sub))
		return false, nil
	}
	return true, nil
}

// loadEntityVars follows DataLoader.find_vars_files: the first of NAME,
// NAME.yml, NAME.yaml, NAME.json that exists is used; if it is a directory
// every vars file below it is loaded in lexical order, later files winning.
func (vt *Vault) loadEntityVars(base, sub, name string, dst map[string]Var) error {
	// A name with a path separator would read files outside group_vars/.
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil
	}
	for _, ext := range append([]string{""}, varsExtensions...) {
		rel := filepath.Join(sub, name+ext)
		path := filepath.Join(base, rel)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return &Error{File: path, Msg: err.Error()}
		}
		files := []string{rel}
		if fi.IsDir() {
			if files, err = dirVarsFiles(base, rel); err != nil {
				return err
			}
		}
		for _, f := range files {
			if err := vt.loadVarsFile(base, f, dst); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// dirVarsFiles mirrors DataLoader._get_dir_vars_files: sorted, recursive
// into extension-less directories, skipping hidden and backup (~) files.
func dirVarsFiles(base, rel string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(base, rel))
	if err != nil {
		return nil, &Error{File: filepath.Join(base, rel), Msg: err.Error()}
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		ext := filepath.Ext(n)
		child := filepath.Join(rel, n)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(filepath.Join(base, child))
			if err != nil {
				continue // dangling link: Ansible's is_file/is_directory skip it as well
			}
			isDir = fi.IsDir()
		}
		switch {
		case isDir && ext == "":
			sub, err := dirVarsFiles(base, child)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case !isDir && (ext == "" || slices.Contains(varsExtensions, ext)):
			out = append(out, child)
		}
	}
	return out, nil
}

func (vt *Vault) loadVarsFile(base, rel string, dst map[string]Var) error {
	path := filepath.Join(base, rel)
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	root, encrypted, err := decodeYAML(path, data, vt)
	if err != nil {
		return err
	}
	if isNull(root) {
		return nil // Ansible ignores empty vars files
	}
	if root.Kind != yaml.MappingNode {
		found := kindName(root)
		if encrypted {
			found = "something else (not shown: it is vault-encrypted)"
		}
		return &Error{File: path, Line: root.Line, Msg: fmt.Sprintf("vars file must be a YAML mapping of variable names, found %s", found)}
	}
	pairs, err := mappingPairs(path, root)
	if err != nil {
		return err
	}
	source := filepath.ToSlash(rel)
	for _, kv := range pairs {
		name, err := keyName(path, kv.key, "variable name")
		if err != nil {
			return err
		}
		v := vt.makeVar(kv, source, path)
		v.Vaulted = v.Vaulted || encrypted
		dst[name] = v
	}
	return nil
}
