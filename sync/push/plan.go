package push

import (
	"bytes"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// plan is what a node needs, decided from one read of its file.
type plan struct {
	action action
	// want is what the file must end as: the inventory's owner, group
	// and mode, and where owner or group is not enforced, what the file
	// has now, as Elasticsearch's CLI keeps them.
	want remotefile.Attrs
	// repair is why Elasticsearch cannot load the file the write
	// replaces ("line N: ..."), when it is recognisably a service_tokens
	// file: it serves no token, so replacing it is a repair, and the
	// broken file is kept beside it.
	repair string
}

type action int

const (
	keep    action = iota // right already: nothing to write
	refuse                // a guard, the conflict rule or a missing right: not written
	replace               // new content
	// fix: right content, wrong owner, group or mode. The repair is a
	// whole new file all the same: a change by path on the live name
	// would follow whatever link a local user swapped in there.
	fix
)

// decide plans from t.st, and sets the node's line as the plan stands:
// unchanged, conflict or failed for a node that is not written, and
// would-update or would-fix (what a dry run says) for one that is.
func (t *txn) decide() {
	t.plan.want = target(t.c, t.st)
	t.res = describe(t.c, t.st)
	same := t.st.Exists && bytes.Equal(t.st.Data, t.req.Data)
	if !same {
		t.res.Changes = changes(t.st, t.req.Local)
	}
	switch {
	case same && attrsRight(t.st, t.plan.want):
		t.plan.action, t.res.Status = keep, Unchanged
	case t.refused(same):
		t.plan.action = refuse
	case same:
		t.plan.action, t.res.Status = fix, WouldFix
	default:
		t.plan.action, t.res.Status = replace, WouldUpdate
	}
	t.plan.repair = ""
	if t.plan.action == replace {
		t.plan.repair = unloadable(t.st)
	}
	if t.plan.action == fix || t.plan.action == replace {
		t.res.Reason = remedy.Text(t.wouldChange())
	}
}

// refused sets the node's line when it must not be written: a guard or
// the conflict rule (conflict), or a session that may not give the file
// its owner and group (failed, before anything is written; a dry run
// only says what it would change).
func (t *txn) refused(same bool) bool {
	if reason, kind := refusal(t.st, t.req, same); !reason.IsZero() {
		t.res.Status, t.res.Failure, t.res.Reason = Conflict, kind, reason
		return true
	}
	if err := t.c.CanSet(t.plan.want); err != nil && !t.req.DryRun {
		t.res = failed(t.ctx, err)
		return true
	}
	return false
}

func attrsRight(st remotefile.State, want remotefile.Attrs) bool {
	return st.UID == want.UID && st.GID == want.GID && st.Mode == want.Mode
}

// target is what the node's file must end as: the inventory's owner,
// group and mode, and where owner or group is not enforced, what the
// file has now, as Elasticsearch's CLI keeps them.
func target(c *remotefile.Conn, st remotefile.State) remotefile.Attrs {
	want := c.Target()
	if st.Exists {
		if want.UID < 0 {
			want.UID = st.UID
		}
		if want.GID < 0 {
			want.GID = st.GID
		}
	}
	return want
}
