package sampling

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// FNV-1a 64 (Fowler, Noll, Vo; http://www.isthe.com/chongo/tech/comp/fnv/): the
// offset basis and prime of the 64-bit variant.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv1a64 returns the 64-bit FNV-1a hash of s's bytes. It is written out
// (not hash/fnv) because shard membership and group seeds are part of the
// file format and must not depend on anything but this formula.
func fnv1a64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// GroupSeed returns the Params.Seed a run uses for the item with this id:
//
//	z = base XOR fnv1a64(id)
//	z = (z XOR z>>30) * 0xbf58476d1ce4e5b9
//	z = (z XOR z>>27) * 0x94d049bb133111eb
//	GroupSeed = z XOR z>>31
//
// where fnv1a64 is the 64-bit FNV-1a hash of the id's bytes and the last
// three lines are SplitMix64's finaliser (Steele et al. 2014), which spreads
// FNV's weakly mixed low bits over the whole word: the llama backend draws
// sample k with seed uint32(GroupSeed)+k. A group's seed thus depends only
// on the run's base seed and the item's id, never on the order, the
// concurrency, the shard or how often the run was resumed.
func GroupSeed(base uint64, id string) uint64 {
	z := base ^ fnv1a64(id)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Shard selects the part of a run's items that one process generates, for
// Slurm job arrays and Kubernetes Indexed Jobs. The item with id belongs to
// shard fnv1a64(id) mod Count (fnv1a64 as in GroupSeed), so membership
// depends on the id alone. The zero Shard is the whole input.
type Shard struct {
	Index int // 0 ≤ Index < Count
	Count int // the number of shards; 0 for the whole input
}

// ParseShard parses "i/n" with 0 ≤ i < n, as String writes it. The empty
// string is the zero Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("sampling: shard %q: want i/n", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("sampling: shard %q: want i/n with integers i and n", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.validateSharded(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

// Environment variables that carry a shard index.
const (
	envSlurm = "SLURM_ARRAY_TASK_ID"  // Slurm job arrays (sbatch --array=0-N)
	envK8s   = "JOB_COMPLETION_INDEX" // Kubernetes Indexed Jobs
)

// ShardFromEnv returns shard i of count, with i read from the environment:
// SLURM_ARRAY_TASK_ID if it is set, JOB_COMPLETION_INDEX otherwise (Slurm
// wins because a Slurm job may run inside a container that sets the other).
// The index must lie in [0, count): a Slurm array for n shards is submitted
// with --array=0-(n-1). It is an error if neither variable is set.
func ShardFromEnv(count int) (Shard, error) {
	name := envSlurm
	v, ok := os.LookupEnv(name)
	if !ok {
		name = envK8s
		v, ok = os.LookupEnv(name)
	}
	if !ok {
		return Shard{}, fmt.Errorf("sampling: shard from environment: neither %s nor %s is set", envSlurm, envK8s)
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return Shard{}, fmt.Errorf("sampling: shard from environment: %s=%q is not an integer", name, v)
	}
	sh := Shard{Index: i, Count: count}
	if err := sh.validateSharded(); err != nil {
		return Shard{}, fmt.Errorf("sampling: shard from environment: %s=%s: %w", name, v, err)
	}
	return sh, nil
}

// validate reports a Shard that is neither zero nor i/n with 0 ≤ i < n.
func (s Shard) validate() error {
	if s == (Shard{}) {
		return nil
	}
	return s.validateSharded()
}

// validateSharded reports a Shard that is not i/n with 0 ≤ i < n.
func (s Shard) validateSharded() error {
	if s.Count <= 0 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("sampling: shard %d/%d: want 0 ≤ index < count", s.Index, s.Count)
	}
	return nil
}

// String returns "i/n", or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Contains reports whether the item with this id belongs to s.
func (s Shard) Contains(id string) bool {
	return s.Count == 0 || fnv1a64(id)%uint64(s.Count) == uint64(s.Index)
}
