package deliver

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// errEnvFile marks a systemd EnvironmentFile this tool will not edit. Its
// messages name lines by number only: the file holds secrets.
var errEnvFile = errors.New("environment file")

// setEnv returns data with the assignment of key replaced by key=value,
// every other byte as it was; a file without one gets it appended. It
// refuses a file it cannot edit safely: key assigned twice (which one
// systemd uses is easy to get wrong), or continued onto the next line with
// a backslash (its end is not where it seems).
func setEnv(data []byte, key, value string) ([]byte, error) {
	lines := splitKeep(data)
	at := -1
	continued := false
	for i, l := range lines {
		body := strings.TrimRight(string(l), "\r\n")
		starts := !continued && assigns(body, key)
		continued = strings.HasSuffix(body, `\`) && !isComment(body)
		if !starts {
			continue
		}
		if at >= 0 {
			return nil, fmt.Errorf("%w: %s is assigned on lines %d and %d: keep one, then deliver again", errEnvFile, key, at+1, i+1)
		}
		if continued {
			return nil, fmt.Errorf("%w: line %d assigns %s and continues on the next line (a trailing backslash): write it on one line, then deliver again", errEnvFile, i+1, key)
		}
		at = i
	}
	line := key + "=" + value
	var out bytes.Buffer
	for i, l := range lines {
		if i != at {
			out.Write(l)
			continue
		}
		body := bytes.TrimRight(l, "\r\n")
		out.WriteString(line)
		out.Write(l[len(body):]) // the line's own ending, CRLF or LF or none
	}
	if at < 0 {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes(), nil
}

// splitKeep splits data into lines that keep their "\n".
func splitKeep(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i+1])
		data = data[i+1:]
	}
	return lines
}

// assigns reports whether a line of a systemd EnvironmentFile assigns
// key: "KEY=...", with blanks allowed around the name and the '='.
func assigns(line, key string) bool {
	l := strings.TrimLeft(line, " \t")
	if isComment(l) {
		return false
	}
	rest, ok := strings.CutPrefix(l, key)
	return ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "=")
}

// isComment: systemd ignores lines starting with # or ;.
func isComment(line string) bool {
	l := strings.TrimLeft(line, " \t")
	return strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")
}
