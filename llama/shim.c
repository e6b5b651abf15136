#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ggml-backend.h"
#include "shim.h"

#define LF_LOG_LINES 32
#define LF_LOG_LINE 512

static pthread_mutex_t lf_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char lf_log_ring[LF_LOG_LINES][LF_LOG_LINE];
static uint64_t lf_log_seq[LF_LOG_LINES];
static uint64_t lf_log_next = 1; // sequence number of the next line
static int lf_log_verbose = 0;
static enum ggml_log_level lf_last_level = GGML_LOG_LEVEL_NONE;

static void lf_log(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (lf_log_verbose) {
        fputs(text, stderr);
    }
    if (level == GGML_LOG_LEVEL_CONT) {
        level = lf_last_level;
    } else {
        lf_last_level = level;
    }
    if (level < GGML_LOG_LEVEL_WARN || text == NULL || text[0] == '\0' || text[0] == '\n') {
        return;
    }
    pthread_mutex_lock(&lf_log_mu);
    int slot = (int)(lf_log_next % LF_LOG_LINES);
    snprintf(lf_log_ring[slot], LF_LOG_LINE, "%s", text);
    size_t n = strlen(lf_log_ring[slot]);
    while (n > 0 && (lf_log_ring[slot][n - 1] == '\n' || lf_log_ring[slot][n - 1] == ' ')) {
        lf_log_ring[slot][--n] = '\0';
    }
    lf_log_seq[slot] = lf_log_next++;
    pthread_mutex_unlock(&lf_log_mu);
}

uint64_t lf_log_mark(void) {
    pthread_mutex_lock(&lf_log_mu);
    uint64_t m = lf_log_next;
    pthread_mutex_unlock(&lf_log_mu);
    return m;
}

void lf_take_log_since(uint64_t mark, char *buf, size_t len) {
    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    size_t used = 0;
    pthread_mutex_lock(&lf_log_mu);
    uint64_t first = lf_log_next > LF_LOG_LINES ? lf_log_next - LF_LOG_LINES : 1;
    if (mark > first) {
        first = mark;
    }
    for (uint64_t s = first; s < lf_log_next; s++) {
        int slot = (int)(s % LF_LOG_LINES);
        if (lf_log_seq[slot] != s) {
            continue;
        }
        int w = snprintf(buf + used, len - used, "%s%s", used ? "\n" : "", lf_log_ring[slot]);
        if (w < 0 || (size_t)w >= len - used) {
            break;
        }
        used += (size_t)w;
    }
    pthread_mutex_unlock(&lf_log_mu);
}

void lf_take_log(char *buf, size_t len) { lf_take_log_since(0, buf, len); }

int lf_library_dir(char *buf, size_t len) {
    Dl_info info;
    if (dladdr((void *)&llama_backend_init, &info) == 0 || info.dli_fname == NULL) {
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", info.dli_fname);
    snprintf(buf, len, "%s", dirname(path));
    return 0;
}

int lf_init(const char *dir, int verbose) {
    lf_log_verbose = verbose;
    llama_log_set(lf_log, NULL);
    char libdir[4096];
    if (dir == NULL || dir[0] == '\0') {
        if (lf_library_dir(libdir, sizeof libdir) != 0) {
            return -1;
        }
        dir = libdir;
    }
    // Backends built into libggml (a from-source build without
    // GGML_BACKEND_DL) are registered already; loading finds the rest.
    ggml_backend_load_all_from_path(dir);
    llama_backend_init();
    return (int)ggml_backend_dev_count();
}
