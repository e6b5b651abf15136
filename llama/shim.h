// Small C helpers for the Go binding; everything else calls llama.h directly.
#ifndef LABELFREE_SHIM_H
#define LABELFREE_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "llama.h"

// lf_init loads the ggml backends from dir (the directory of libllama when
// dir is NULL or empty), initialises llama.cpp and installs the log capture.
// It returns the number of backend devices found.
int lf_init(const char *dir, int verbose);

// lf_library_dir writes the directory holding libllama into buf.
int lf_library_dir(char *buf, size_t len);

// lf_take_log copies the recent warning and error lines of llama.cpp into
// buf (NUL-terminated, oldest first) and forgets them.
void lf_take_log(char *buf, size_t len);

// lf_log_mark returns a sequence number; lf_take_log_since copies only lines
// logged after that mark, so concurrent callers see their own messages best.
uint64_t lf_log_mark(void);
void lf_take_log_since(uint64_t mark, char *buf, size_t len);

// lf_stats summarises one row of raw logits.
typedef struct {
    double log_z;   // log Σ_v exp(logit_v): log p(v) = logit_v - log_z
    double entropy; // -Σ_v p_v log p_v, natural log
    int32_t argmax; // lowest index of the largest logit
} lf_stats;

// lf_row_stats fills out for the n logits of one row. It returns 0, or
// -1 - i when logits[i] is NaN or infinite (and -1 when n <= 0).
int lf_row_stats(const float *logits, int n, lf_stats *out);

#endif
