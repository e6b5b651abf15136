package sampling

import (
	"strings"
	"testing"
)

func TestParamsDefaults(t *testing.T) {
	got := (&Params{}).WithDefaults()
	// Qwen3's recommended thinking-mode sampling (its model card): T 0.6, top-p 0.95, top-k 20.
	want := Params{MaxTokens: 1024, Temperature: 0.6, TopK: 20, TopP: 0.95}
	if got.MaxTokens != want.MaxTokens || got.Temperature != want.Temperature || got.TopK != want.TopK || got.TopP != want.TopP || got.MinP != 0 {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	set := (&Params{MaxTokens: 5, Temperature: 1.5, TopK: -1, TopP: 1, MinP: 0.05}).WithDefaults()
	if set.MaxTokens != 5 || set.Temperature != 1.5 || set.TopK != -1 || set.TopP != 1 || set.MinP != 0.05 {
		t.Errorf("explicit values changed: %+v", set)
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p    Params
		want string
	}{
		{Params{Samples: -1}, "Samples"},
		{Params{MaxTokens: -3}, "MaxTokens"},
		{Params{Temperature: -0.1}, "Temperature"},
		{Params{TopP: 1.01}, "TopP"},
		{Params{MinP: -1}, "MinP"},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want it to name %s", tt.p, err, tt.want)
		}
	}
	if err := (&Params{Samples: 8, MinP: 0.1}).Validate(); err != nil {
		t.Errorf("valid params rejected: %v", err)
	}
}
