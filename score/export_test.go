package score

// SetBatchBytes sets the size of TraceReader's batches, so that tests of
// several batches need no big files, and returns a function that restores
// it.
func SetBatchBytes(n int) (restore func()) {
	old := batchBytes
	batchBytes = n
	return func() { batchBytes = old }
}

// SetReadBatch sets the size of Reader.All's batches and returns a
// function that restores it.
func SetReadBatch(n int) (restore func()) {
	old := readBatch
	readBatch = n
	return func() { readBatch = old }
}
