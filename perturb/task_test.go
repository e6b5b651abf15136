package perturb_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The prompts are compared with golden files: a change to the wording
// changes every trace and is reviewed as a diff (go test -update).
func TestPromptGolden(t *testing.T) {
	tests := []struct {
		golden string
		q      perturb.Question
	}{
		{"prompt_k562.golden", perturb.Question{Cell: perturb.K562, Pert: "AAMP", Gene: "ATP5IF1", Split: perturb.Train, Class: perturb.Up}},
		{"prompt_k562_set.golden", perturb.Question{Cell: perturb.K562Set, Pert: "ACTL6A", Gene: "6-dysregulated lncRNA/antisense transcripts", Split: perturb.Train, Class: perturb.Up}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			p, err := perturb.Task{}.Prompt(tt.q.Item())
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Messages) != 2 || p.Messages[0].Role != "system" || p.Messages[1].Role != "user" || p.NoThinking || p.Text != "" {
				t.Fatalf("prompt %+v: want a system and a user message", p)
			}
			got := p.Messages[0].Content + "\n---\n" + p.Messages[1].Content + "\n"
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("prompt differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// Every cell line has a description, and the prompt asks what Parse reads.
func TestPromptCells(t *testing.T) {
	for _, cell := range perturb.Cells() {
		q := perturb.Question{Cell: cell, Pert: "PERTX", Gene: "GENEY"}
		p, err := perturb.Task{}.Prompt(q.Item())
		if err != nil {
			t.Fatal(err)
		}
		user := p.Messages[1].Content
		for _, s := range []string{"PERTX", "GENEY", "CRISPRi", " cells (", "<think>", "</think>", "<answer>", "</answer>",
			"up", "down", "not differentially expressed"} {
			if !strings.Contains(user, s) {
				t.Errorf("%s: prompt lacks %q:\n%s", cell, s, user)
			}
		}
	}
}

func TestPromptErrors(t *testing.T) {
	good := map[string]string{"cell": "k562", "pert": "AAMP", "gene": "BTG1"}
	without := func(key string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			if k != key {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name   string
		fields map[string]string
		want   error
		field  string // named in the message
	}{
		{"no cell", without("cell"), perturb.ErrMissingField, `"cell"`},
		{"no pert", without("pert"), perturb.ErrMissingField, `"pert"`},
		{"empty gene", map[string]string{"cell": "k562", "pert": "AAMP", "gene": ""}, perturb.ErrMissingField, `"gene"`},
		{"no fields", nil, perturb.ErrMissingField, `"cell"`},
		{"unknown cell", map[string]string{"cell": "K562", "pert": "AAMP", "gene": "BTG1"}, perturb.ErrUnknownCell, `"cell"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := perturb.Task{}.Prompt(sampling.Item{ID: "x/y/z", Fields: tt.fields})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "perturb: ") || !strings.Contains(msg, tt.field) || !strings.Contains(msg, "x/y/z") {
				t.Errorf("message %q does not name the item and field %s", msg, tt.field)
			}
		})
	}
}

func TestClasses(t *testing.T) {
	var task sampling.Task = perturb.Task{}
	want := []string{"up", "down", "none"}
	if got := task.Classes(); !slices.Equal(got, want) {
		t.Errorf("Classes() = %v, want %v", got, want)
	}
	task.Classes()[0] = "changed"
	if got := perturb.Classes(); !slices.Equal(got, want) {
		t.Errorf("Classes() returns a shared slice: %v after a caller's change", got)
	}
}
