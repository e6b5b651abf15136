package score

import (
	"fmt"
	"hash/crc32"
	"strconv"
)

// Location is where a group's line is in the trace file that was scored:
// enough to read that line alone, and to tell whether it is still the
// line that was scored. The zero Location means unknown.
// Its JSON form, in a score file and a selection file, is
// {"offset":…,"len":…,"crc32c":…}.
type Location struct {
	// Offset is the byte offset of the line's first byte in the file (the
	// header is line 1, so a group's Offset is at least 1).
	Offset int64 `json:"offset"`
	// Len is the line's length in bytes, without its newline.
	Len int `json:"len"`
	// CRC32C is the CRC-32C (Castagnoli) of the line's Len bytes.
	CRC32C uint32 `json:"crc32c"`
}

// castagnoli is CRC-32C's table; hash/crc32 computes it with the CPU's
// CRC32 instructions where there are any (SSE 4.2, ARMv8).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LocationOf returns the Location of line, a trace file's line without its
// newline, found at byte offset off.
func LocationOf(off int64, line []byte) Location {
	return Location{Offset: off, Len: len(line), CRC32C: crc32.Checksum(line, castagnoli)}
}

// Matches reports whether line (without its newline) has l's length and
// checksum: whether it is, with overwhelming odds, the line l was taken
// from.
func (l Location) Matches(line []byte) bool {
	return len(line) == l.Len && crc32.Checksum(line, castagnoli) == l.CRC32C
}

// check reports a Location that no trace file line can have. The zero
// Location (unknown) is fine unless known says the Location was given.
func (l Location) check(known bool) error {
	if (known || l != Location{}) && (l.Offset < 1 || l.Len < 1) {
		return fmt.Errorf("location at byte %d of length %d: both must be positive", l.Offset, l.Len)
	}
	return nil
}

// AppendJSON appends l's JSON form, {"offset":…,"len":…,"crc32c":…}, to b.
func (l Location) AppendJSON(b []byte) []byte {
	b = append(b, `{"offset":`...)
	b = strconv.AppendInt(b, l.Offset, 10)
	b = append(b, `,"len":`...)
	b = strconv.AppendInt(b, int64(l.Len), 10)
	b = append(b, `,"crc32c":`...)
	b = strconv.AppendUint(b, uint64(l.CRC32C), 10)
	return append(b, '}')
}
