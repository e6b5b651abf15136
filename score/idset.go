package score

import (
	"hash/maphash"
)

// idSet remembers ids and the line each was first on. Unlike a
// map[string]int it holds no pointers for the garbage collector to scan,
// and hashes each id once: a score file has millions of ids, all
// alive until the end. The zero idSet is not ready: use newIDSet.
type idSet struct {
	hash  func(string) uint64
	at    map[uint64]int32 // an id's hash → its index in refs
	refs  []idRef
	bytes []byte         // the ids, one after another
	other map[string]int // ids whose hash another id has, → line
}

// idRef is where an id is in idSet.bytes, and its line.
type idRef struct {
	off  int64
	n    int32
	line int32
}

func newIDSet() *idSet {
	seed := maphash.MakeSeed()
	return &idSet{hash: func(id string) uint64 { return maphash.String(seed, id) }, at: make(map[uint64]int32)}
}

// add records id as seen on line, or returns the line it was first seen
// on and true.
func (s *idSet) add(id string, line int) (first int, dup bool) {
	h := s.hash(id)
	k, taken := s.at[h]
	if !taken {
		s.at[h] = int32(len(s.refs))
		s.refs = append(s.refs, idRef{off: int64(len(s.bytes)), n: int32(len(id)), line: int32(line)})
		s.bytes = append(s.bytes, id...)
		return 0, false
	}
	if r := s.refs[k]; string(s.bytes[r.off:r.off+int64(r.n)]) == id {
		return int(r.line), true
	}
	// Another id with the same 64-bit hash: about one in 10^7 files of a
	// million ids has one.
	if first, dup := s.other[id]; dup {
		return first, true
	}
	if s.other == nil {
		s.other = make(map[string]int)
	}
	s.other[id] = line
	return 0, false
}
