package push

import (
	"bytes"
	"regexp"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// refusal says why the node's file must not be written: it is probably
// not what the user meant to replace (guard), or, for a create or delete,
// it is neither the local file before the change nor after it (the
// conflict rule: someone else changed it). Zero when the write may go
// ahead.
func refusal(st remotefile.State, req Request, sameContent bool) (remedy.Message, failure.Kind) {
	if reason, kind := guard(st, req); !reason.IsZero() {
		return reason, kind
	}
	if !sameContent && req.Before != nil && st.Exists && !req.Force &&
		st.SHA256 != digest.SHA256(req.Before) && st.SHA256 != digest.SHA256(req.Data) {
		return conflictReason(st, req.Before), failure.Conflict
	}
	return remedy.Message{}, ""
}

// guard stops a write that is probably a slip, unless forced:
//   - over a file that is not a service_tokens file at all (a wrong path:
//     elasticsearch.yml, or no line shaped as a token);
//   - a plain push of a local file with no token onto a node that has
//     some (an emptied local file). A delete of the last token says what
//     it means, and goes ahead.
//
// A file that is recognisably a service_tokens file but that
// Elasticsearch cannot load serves no token at all: replacing it loses
// nothing that works, so it is not guarded (see unloadable).
func guard(st remotefile.State, req Request) (remedy.Message, failure.Kind) {
	if !st.Exists || req.Force || bytes.Equal(st.Data, req.Data) {
		return remedy.Message{}, ""
	}
	onNode, err := tokens.Parse(st.Data)
	if err != nil {
		if looksLikeTokens(st.Data) {
			return remedy.Message{}, "" // repaired (plain push) or a conflict (create, delete)
		}
		return remedy.Sprintf("the node's file is not a service_tokens file Elasticsearch can load (%s); not overwritten: check path, or use %v to replace it", tokens.Redacted(err), remedy.Force), failure.Refused
	}
	if onNode.Len() == 0 {
		for _, d := range onNode.Dropped {
			if d.Key != "" {
				// Lines, and not one token: another kind of file (a wrong
				// path, elasticsearch.yml). Its words are not shown:
				// through a link it may be any file on the node.
				return remedy.Sprintf("the node's file is not a service_tokens file: it holds no token, and line %d is not one (%s); not overwritten: check path, or use %v to replace it",
					d.Line, d.Reason, remedy.Force), failure.Refused
			}
		}
	}
	if req.Before == nil && req.Local.Len() == 0 && onNode.Len() > 0 {
		return remedy.Sprintf("this would remove every token from the node (%s); not written: use %v if you mean it", plural(onNode.Len(), "token"), remedy.Force), failure.Conflict
	}
	return remedy.Message{}, ""
}

// tokenLine is a line shaped as a service token: principal (namespace and
// service), name, ':' and something, whether or not Elasticsearch can
// read the hash.
var tokenLine = regexp.MustCompile(`(?m)^[ \t]*[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[^\s:/]+:\S`)

// looksLikeTokens reports whether data has at least one line shaped as a
// service token: a service_tokens file, even if Elasticsearch cannot load
// it, and not another file at the wrong path.
func looksLikeTokens(data []byte) bool { return tokenLine.Match(data) }

// unloadable returns why Elasticsearch cannot load st, a file that is
// recognisably a service_tokens file ("line N: what is wrong", no byte of
// the file), or "" for a file that loads, is missing, or is something
// else.
func unloadable(st remotefile.State) string {
	if !st.Exists || !looksLikeTokens(st.Data) {
		return ""
	}
	if _, err := tokens.Parse(st.Data); err != nil {
		return tokens.Redacted(err)
	}
	return ""
}
