package score

import (
	"fmt"
	"testing"
)

// TestIDSet checks idSet against a map, with its real hash and with one
// that gives every id the same hash, so that every id but the first
// takes the path of a hash collision.
func TestIDSet(t *testing.T) {
	for _, collide := range []bool{false, true} {
		s := newIDSet()
		if collide {
			s.hash = func(string) uint64 { return 42 }
		}
		want := map[string]int{}
		for line := 2; line < 3000; line++ {
			id := fmt.Sprintf("q%d", line*7919%1000) // every id about 3 times
			first, dup := s.add(id, line)
			w, wdup := want[id]
			if dup != wdup || first != w {
				t.Fatalf("collide %v: add(%q, %d) = %d, %v; want %d, %v", collide, id, line, first, dup, w, wdup)
			}
			if !wdup {
				want[id] = line
			}
		}
	}
}
