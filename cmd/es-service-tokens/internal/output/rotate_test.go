package output

import (
	"bytes"
	"encoding/json"
	"testing"
)

// rotate --older-than with nothing to rotate: "rotations" is an empty
// array, as every list of the JSON output is, not null (a script's
// `.rotations | length` fails on null).
func TestRotationsJSONEmptyIsArray(t *testing.T) {
	var b bytes.Buffer
	o := &Rotations{W: &b, JSON: true, File: "config/service_tokens", Batch: true}
	if err := o.Finish(); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Rotations *[]json.RawMessage }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.Rotations == nil {
		t.Fatalf("document %s (%v): rotations is not an array", b.String(), err)
	}
}
