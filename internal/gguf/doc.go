// Package gguf reads and writes GGUF files, the model format of llama.cpp.
//
// The reader validates everything a loader relies on before any byte reaches C:
// the magic and version, every metadata key and value, the tensor table (names,
// shapes, types, block alignment) and that each tensor's data lies inside the
// file, in the order and alignment llama.cpp's own reader (ggml/src/gguf.cpp of
// the pinned v0.5.0) demands. A file that passes Read is one llama.cpp can parse
// without reading past its end.
//
// Shapes follow ggml's convention: Shape[0] (ne0) is the contiguous dimension,
// so a matrix that maps an n-vector to an m-vector has Shape {n, m}.
//
// The writer streams: tensor data is produced by a callback at write time, so a
// multi-gigabyte model never has to sit in memory.
package gguf
