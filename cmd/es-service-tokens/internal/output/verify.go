package output

// verify's verdicts: by the local file, by the cluster (_authenticate),
// and on every node's own address; they must agree.

import (
	"errors"
	"fmt"
	"io"

	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
)

// LocalVerdict is the local file's verdict on a token: Err says why it
// refuses it.
type LocalVerdict struct {
	File, Token string
	Err         error
}

// LiveVerdict is the cluster's: who the token authenticated as, or why
// not (Err).
type LiveVerdict struct {
	elastic.Authentication
	Err error
}

// Verdicts are what verify found; each is nil when it was not asked (no
// local file, no cluster, no --all-nodes).
type Verdicts struct {
	Local    *LocalVerdict
	Live     *LiveVerdict
	AllNodes *prove.Report
}

// OK reports whether every verdict asked accepts the token.
func (v Verdicts) OK() bool {
	return (v.Local == nil || v.Local.Err == nil) && (v.Live == nil || v.Live.Err == nil) && (v.AllNodes == nil || v.AllNodes.Accepted)
}

// Verify renders the verdicts: the JSON document, or a line each.
func Verify(w io.Writer, asJSON bool, v Verdicts) error {
	res := verifyResult{}
	if l := v.Local; l != nil {
		res = verifyResult{Valid: l.Err == nil, QualifiedName: l.Token, File: l.File}
		if l.Err != nil {
			res.Reason = l.Err.Error()
		}
	}
	switch {
	case v.Live != nil:
		return live(w, asJSON, res, v)
	case v.AllNodes != nil:
		return allNodes(w, asJSON, res, v)
	case asJSON:
		return JSON(w, res)
	case res.Valid:
		fmt.Fprintf(w, "VALID %s\n", res.QualifiedName)
	case res.QualifiedName != "":
		fmt.Fprintf(w, "INVALID %s: %s\n", res.QualifiedName, res.Reason)
	default:
		fmt.Fprintf(w, "INVALID: %s\n", res.Reason)
	}
	return nil
}

// localLine is the local verdict beside another.
func localLine(w io.Writer, res verifyResult) {
	switch {
	case res.Valid:
		fmt.Fprintf(w, "VALID %s in %s\n", res.QualifiedName, res.File)
	case res.QualifiedName == "": // not a service account token: no name to give
		fmt.Fprintf(w, "INVALID in %s: %s\n", res.File, res.Reason)
	default:
		fmt.Fprintf(w, "INVALID %s in %s: %s\n", res.QualifiedName, res.File, res.Reason)
	}
}

// live renders the local and the cluster's verdicts, and where they
// disagree, which of the two is behind.
func live(w io.Writer, asJSON bool, res verifyResult, v Verdicts) error {
	l := liveOf(v.Live)
	res.Elasticsearch = l
	haveLocal := v.Local != nil
	refused := l.Status == 401
	disagree := ""
	switch {
	case haveLocal && res.Valid && refused:
		disagree = "the local file accepts the token but Elasticsearch refused it: the answering node has not loaded the current file (or cannot parse it); look at its log"
	case haveLocal && !res.Valid && l.Valid:
		// Which of the node's file or its Elasticsearch is behind cannot
		// be told from here: each remedy is given for the state it fits.
		disagree = "Elasticsearch accepted the token but the local file does not: the answering node serves a token the local file lacks; check -i tells whether that node's file has it (then pull it, or push the local file) or not (then its Elasticsearch has not reloaded it: look at that node's log, or restart it)"
	}
	if !haveLocal {
		res.Valid, res.QualifiedName = l.Valid, ""
		if l.Valid {
			res.QualifiedName = l.Username + "/" + l.TokenName
		}
	}
	if asJSON {
		if disagree != "" {
			res.Reason = disagree
		}
		res.Valid = v.OK()
		return JSON(w, res)
	}
	if haveLocal {
		localLine(w, res)
	}
	switch {
	case l.Valid:
		by := "at " + l.URL
		if l.Node != "" {
			by = "by node " + l.Node + " at " + l.URL
		}
		fmt.Fprintf(w, "VALID %s/%s in Elasticsearch: authenticated %s\n", l.Username, l.TokenName, by)
	case refused:
		fmt.Fprintf(w, "INVALID in Elasticsearch: %s\n", l.Error)
	default:
		fmt.Fprintf(w, "UNKNOWN in Elasticsearch: %s\n", l.Error)
	}
	if disagree != "" {
		fmt.Fprintf(w, "DISAGREE: %s\n", disagree)
	}
	return nil
}

// liveOf is the cluster's verdict as verify's "elasticsearch" object.
func liveOf(v *LiveVerdict) *liveResult {
	auth := authenticationJSON(v.Authentication)
	res := &liveResult{Valid: v.Err == nil, authenticationJSON: &auth}
	if v.Err != nil {
		res.Error = Phrase(v.Err)
		var ee *elastic.Error
		if errors.As(v.Err, &ee) {
			res.Status = ee.Status
		}
	}
	return res
}

// allNodes renders the local verdict, when there is a local file, and
// each node's answer.
func allNodes(w io.Writer, asJSON bool, res verifyResult, v Verdicts) error {
	if asJSON {
		res.AllNodes, res.Valid = proofOf(v.AllNodes), v.OK()
		if res.QualifiedName == "" {
			res.QualifiedName = v.AllNodes.Token
		}
		return JSON(w, res)
	}
	if v.Local != nil {
		localLine(w, res)
	}
	printProof(w, v.AllNodes)
	return nil
}
