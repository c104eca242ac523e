package check

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Against compares two local files: otherPath plays the node, and the local
// file's own owner, group and mode are what it should have. It compares
// as Check does, with the same Mismatches, so the two report alike.
func Against(localPath string, local store.Snapshot, otherPath string) (Result, error) {
	other, err := store.Load(otherPath)
	if err != nil {
		if _, ok := errors.AsType[*store.MalformedError](err); !ok {
			return Result{}, err
		}
		// A file Elasticsearch would refuse is drift, shown as such.
		data, _ := os.ReadFile(otherPath)
		other = store.Snapshot{Data: data, Exists: true}
	}
	r := Result{Node: otherPath, State: InSync, Differences: []Difference{}}
	want, wantErr := localState(localPath, local.Data)
	if wantErr == nil {
		r.Expected = seen(want, localNames{})
	}
	if !other.Exists {
		r.State = Drift
		r.Differences = append(r.Differences, Difference{What: "missing", Detail: otherPath + " does not exist"})
		return r, nil
	}
	got, gotErr := localState(otherPath, other.Data)
	if gotErr == nil {
		r.Seen = seen(got, localNames{})
	}
	if wantErr == nil && gotErr == nil {
		r.Differences = append(r.Differences, compare(got, remotefile.Attrs{UID: want.UID, GID: want.GID, Mode: want.Mode}, local.Data, local.File, localNames{})...)
	} else {
		r.Differences = append(r.Differences, Compare(other.Data, local.Data, local.File)...)
	}
	if len(r.Differences) > 0 {
		r.State = Drift
	}
	return r, nil
}

// localState is a local file in the form a node's file is read in.
func localState(path string, data []byte) (remotefile.State, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return remotefile.State{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return remotefile.State{Exists: true, Data: data, SHA256: digest.SHA256(data), UID: int(st.Uid), GID: int(st.Gid), Mode: fi.Mode() & fs.ModePerm}, nil
}

// localNames names owners and groups as this machine does.
type localNames struct{}

func (localNames) UserName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func (localNames) GroupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}
