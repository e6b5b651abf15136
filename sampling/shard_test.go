package sampling_test

import (
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want sampling.Shard
		err  string
	}{
		{"", sampling.Shard{}, ""},
		{"0/1", sampling.Shard{Index: 0, Count: 1}, ""},
		{"2/3", sampling.Shard{Index: 2, Count: 3}, ""},
		{"3/3", sampling.Shard{}, "0 ≤ index < count"},
		{"-1/3", sampling.Shard{}, "0 ≤ index < count"},
		{"0/0", sampling.Shard{}, "0 ≤ index < count"},
		{"1", sampling.Shard{}, "want i/n"},
		{"a/3", sampling.Shard{}, "integers"},
		{"1/3/4", sampling.Shard{}, "integers"},
	}
	for _, tt := range tests {
		got, err := sampling.ParseShard(tt.in)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("ParseShard(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseShard(%q) error %v, want one containing %q", tt.in, err, tt.err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseShard(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	const unset = "<unset>"
	tests := []struct {
		slurm, k8s string
		count      int
		want       sampling.Shard
		err        string
	}{
		{"2", unset, 4, sampling.Shard{Index: 2, Count: 4}, ""},
		{unset, "0", 4, sampling.Shard{Index: 0, Count: 4}, ""},
		{"1", "3", 4, sampling.Shard{Index: 1, Count: 4}, ""}, // Slurm wins
		{" 3\n", unset, 4, sampling.Shard{Index: 3, Count: 4}, ""},
		{unset, unset, 4, sampling.Shard{}, "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX"},
		{"4", unset, 4, sampling.Shard{}, "SLURM_ARRAY_TASK_ID=4"}, // a 1-based --array=1-4
		{unset, "x", 4, sampling.Shard{}, `JOB_COMPLETION_INDEX="x" is not an integer`},
		{"0", unset, 0, sampling.Shard{}, "0 ≤ index < count"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q,%q,%d", tt.slurm, tt.k8s, tt.count), func(t *testing.T) {
			for name, v := range map[string]string{"SLURM_ARRAY_TASK_ID": tt.slurm, "JOB_COMPLETION_INDEX": tt.k8s} {
				t.Setenv(name, v) // restores the variable afterwards
				if v == unset {
					unsetenv(t, name)
				}
			}
			got, err := sampling.ShardFromEnv(tt.count)
			if tt.err == "" && (err != nil || got != tt.want) {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
}

// TestShardContains checks that the shards of n partition the ids, in
// proportions near 1/n, by FNV-1a 64 mod n (hash/fnv is the reference).
func TestShardContains(t *testing.T) {
	const ids, n = 3000, 3
	counts := make([]int, n)
	for i := range ids {
		id := fmt.Sprintf("k562/P%d/G%d", i%97, i)
		in := 0
		for k := range n {
			if (sampling.Shard{Index: k, Count: n}).Contains(id) {
				in++
				counts[k]++
			}
		}
		if in != 1 {
			t.Fatalf("id %q is in %d of %d shards", id, in, n)
		}
		h := fnv.New64a()
		h.Write([]byte(id))
		if k := int(h.Sum64() % n); !(sampling.Shard{Index: k, Count: n}).Contains(id) {
			t.Fatalf("id %q: not in shard %d = fnv1a64 mod %d", id, k, n)
		}
		if !(sampling.Shard{}).Contains(id) {
			t.Fatalf("the zero Shard does not contain %q", id)
		}
	}
	for k, c := range counts {
		// Binomial(3000, 1/3): sd ≈ 26; 5 sd.
		if c < ids/n-130 || c > ids/n+130 {
			t.Errorf("shard %d/%d holds %d of %d ids", k, n, c, ids)
		}
	}
}

func TestGroupSeed(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("q1"))
	// SplitMix64 seeded with 0 first returns finaliser(0x9e3779b97f4a7c15)
	// = 0xe220a8397b1dcdaf (Vigna's splitmix64.c).
	base := 0x9e3779b97f4a7c15 ^ h.Sum64()
	if got := sampling.GroupSeed(base, "q1"); got != 0xe220a8397b1dcdaf {
		t.Errorf("GroupSeed = %#x, want 0xe220a8397b1dcdaf", got)
	}
	seen := make(map[uint32]string)
	for i := range 1000 {
		id := fmt.Sprint(i)
		s := sampling.GroupSeed(1, id)
		if s != sampling.GroupSeed(1, id) || s == sampling.GroupSeed(2, id) {
			t.Fatalf("GroupSeed(·, %q) is not a function of the base seed and id", id)
		}
		// The llama backend uses the low 32 bits; collisions among 1000
		// ids have probability ≈ 1e-4.
		if other, dup := seen[uint32(s)]; dup {
			t.Errorf("ids %q and %q share the low 32 bits of their seeds", other, id)
		}
		seen[uint32(s)] = id
	}
}

// unsetenv unsets name for the rest of the test; a t.Setenv before it
// restores the old value afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}
