package filter

// SetReadSizes sets the batch size and the largest gap that one read
// spans of Export's located path, so that tests cover several batches and
// reads without big files, and returns a function that restores them.
func SetReadSizes(batch, gap int) (restore func()) {
	oldBatch, oldGap := readBatch, readGap
	readBatch, readGap = batch, gap
	return func() { readBatch, readGap = oldBatch, oldGap }
}
