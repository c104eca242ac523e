package inventory

import (
	"strings"
	"testing"
	"time"
)

// max_token_age reads like every age option: days, weeks, Go durations.
func TestMaxTokenAge(t *testing.T) {
	inv, err := load(t, "max_token_age: 90d\nnodes: [{name: a}]", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.MaxTokenAge != 90*24*time.Hour || inv.MaxTokenAgeText != "90d" {
		t.Errorf("MaxTokenAge = %v (%q)", inv.MaxTokenAge, inv.MaxTokenAgeText)
	}
	for yaml, want := range map[string]string{
		"max_token_age: 3 months\nnodes: [{name: a}]": `:1: max_token_age: "3 months" is not an age: give days (90d)`,
		"max_token_age: 0d\nnodes: [{name: a}]":       "give an age above zero",
		"max_token_age: [90d]\nnodes: [{name: a}]":    "max_token_age:",
	} {
		if _, err := load(t, yaml, "", Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", yaml, err, want)
		}
	}
}

func TestAnsibleMaxTokenAge(t *testing.T) {
	inv, err := load(t, "all:\n  vars:\n    es_service_tokens_max_token_age: 12w\n  hosts:\n    a:\n    b:\n", "", Options{})
	if err != nil || inv.MaxTokenAge != 84*24*time.Hour {
		t.Fatalf("MaxTokenAge = %v, %v", inv.MaxTokenAge, err)
	}
	_, err = load(t, "all:\n  hosts:\n    a:\n      es_service_tokens_max_token_age: 90d\n    b:\n      es_service_tokens_max_token_age: 30d\n", "", Options{})
	if err == nil || !strings.Contains(err.Error(), "token ages are judged once") {
		t.Errorf("two ages: %v", err)
	}
	_, err = load(t, "all:\n  vars:\n    es_service_tokens_max_token_age: soon\n  hosts:\n    a:\n", "", Options{})
	if err == nil || !strings.Contains(err.Error(), `es_service_tokens_max_token_age: "soon" is not an age`) {
		t.Errorf("bad age: %v", err)
	}
}
