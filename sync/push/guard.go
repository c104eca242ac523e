package push

import (
	"bytes"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// guard stops a push that is probably a slip: overwriting a file that is
// not a service_tokens file Elasticsearch loads (a wrong path, an
// unfinished hand edit), or emptying a node that has tokens. Force says
// it is meant.
func guard(st remotefile.State, req Request) (remedy.Message, failure.Kind) {
	if !st.Exists || req.Force || bytes.Equal(st.Data, req.Data) {
		return remedy.Message{}, ""
	}
	onNode, err := tokens.Parse(st.Data)
	if err != nil {
		return remedy.Sprintf("the node's file is not a service_tokens file Elasticsearch can load (%s); not overwritten: check path, or use %v to replace it", tokens.Redacted(err), remedy.Force), failure.Refused
	}
	if onNode.Len() == 0 {
		for _, d := range onNode.Dropped {
			if d.Key != "" {
				// Lines, and not one token: another kind of file (a wrong
				// path, elasticsearch.yml).
				// Its words are not shown: through a link it may be any
				// file on the node.
				return remedy.Sprintf("the node's file is not a service_tokens file: it holds no token, and line %d is not one (%s); not overwritten: check path, or use %v to replace it",
					d.Line, d.Reason, remedy.Force), failure.Refused
			}
		}
	}
	if req.Local.Len() == 0 && onNode.Len() > 0 && !(req.Undo && req.Before != nil && bytes.Equal(st.Data, req.Before)) {
		return remedy.Sprintf("this would remove every token from the node (%s); not written: use %v if you mean it", plural(onNode.Len(), "token"), remedy.Force), failure.Conflict
	}
	return remedy.Message{}, ""
}
