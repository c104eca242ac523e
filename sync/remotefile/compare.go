package remotefile

import (
	"fmt"
	"io/fs"
)

// Mismatch is one way a file differs from what it should be. What is
// "content", "owner", "group" or "mode"; Seen and Want are as people read
// them: the hex SHA-256 for content, names for owner and group, four
// octal digits for a mode.
type Mismatch struct{ What, Seen, Want string }

// Names turns owner and group numbers into names for messages. A Conn
// names them as the node does.
type Names interface {
	UserName(uid int) string
	GroupName(gid int) string
}

// Mismatches is the one comparison of a file with its target, used by
// push (its read-back and its dry run) and check (nodes, and two local
// files): content by SHA-256 unless wantSHA256 is "", then
// owner and group unless the target leaves them alone (-1), then mode.
// A missing file has none: callers say "missing" in their own words.
func Mismatches(st State, want Attrs, wantSHA256 string, names Names) []Mismatch {
	if !st.Exists {
		return nil
	}
	var out []Mismatch
	if wantSHA256 != "" && st.SHA256 != wantSHA256 {
		out = append(out, Mismatch{"content", st.SHA256, wantSHA256})
	}
	if want.UID >= 0 && st.UID != want.UID {
		out = append(out, Mismatch{"owner", names.UserName(st.UID), names.UserName(want.UID)})
	}
	if want.GID >= 0 && st.GID != want.GID {
		out = append(out, Mismatch{"group", names.GroupName(st.GID), names.GroupName(want.GID)})
	}
	if st.Mode != want.Mode {
		out = append(out, Mismatch{"mode", Mode(st.Mode), Mode(want.Mode)})
	}
	return out
}

// Mode is a file's permission bits as the inventory writes them: 0640.
func Mode(m fs.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }
