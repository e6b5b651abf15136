#!/usr/bin/env bash
# install-llama.sh: provide llama.cpp release v0.5.0 (headers, shared libraries and a
# pkg-config file) for the cgo binding (`#cgo pkg-config: llama`).
#
# Usage: scripts/install-llama.sh [--from-source] [--cuda | --cuda12] [--prefix DIR]
#                                 [--no-verify] [--print-prefix] [-h|--help]
#
# Sources (all fetched with `npm pack`, which downloads a package tarball without
# installing anything; the tarballs' sha512 are pinned below and checked):
#   node-llama-cpp@3.22.1              llama/gitRelease.bundle: git bundle of the llama.cpp
#                                      v0.5.0 source (one commit, pinned below).
#   @node-llama-cpp/linux-x64@3.22.1   prebuilt CPU libraries of that release (default).
#   @node-llama-cpp/linux-x64-cuda@3.22.1
#                                      (--cuda) a complete second build of the same release
#                                      with the CUDA backend libggml-cuda.so (CUDA 13:
#                                      libcudart.so.13 + libcublas.so.13, GPUs sm_75 and
#                                      newer). It carries its own libllama.cuda.v0.5.0.so /
#                                      libggml.cuda.v0.5.0.so built together with that
#                                      backend; they are used as a set, the CPU package is
#                                      not needed.
#   @node-llama-cpp/linux-x64-cuda-ext@3.22.1
#                                      (--cuda12) holds nothing but fallback/libggml-cuda.so,
#                                      the same backend built against CUDA 12 (libcudart.so.12,
#                                      sm_50..sm_80 + PTX): node-llama-cpp's fallback for
#                                      drivers/GPUs that CUDA 13 no longer supports. Installed
#                                      on top of the -cuda package (replacing its backend).
#
# Prefix layout (one directory per variant, never shared):
#   include/        llama.h llama-cpp.h and all ggml/include/*.h
#   lib/            prebuilt: libllama.v0.5.0.so, libggml.v0.5.0.so, libggml-base.so,
#                   libllama-common.so (unused by us) and the ggml backends that
#                   ggml_backend_load_all_from_path(<lib>) loads (libggml-cpu-<arch>.so
#                   variants, libggml-cuda.so); libllama.so / libggml.so symlinks to the
#                   versioned files. From source: libllama.so.0.5.0, libggml*.so.0.25.1
#                   (+ .so/.so.0 links), libggml-cpu.so, lib/cmake/.
#   lib/pkgconfig/llama.pc
#                   Libs: -L<lib> -Wl,-rpath,<lib> -lllama -lggml -lggml-base
#                   (absolute paths; binaries run without LD_LIBRARY_PATH).
#   src/            the pristine llama.cpp v0.5.0 checkout (convert_lora_to_gguf.py,
#                   gguf-py, models/ggml-vocab-qwen2.gguf, ...).
#   .labelfree-installed   stamp written last (after verification); when it matches
#                   this script's variant/version/prefix the script exits at once.
#
# Default prefix: ${LABELFREE_LLAMA_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/labelfree/llama.cpp-v0.5.0}
# plus a variant suffix: "" (prebuilt CPU), -cuda, -cuda12, -src, -src-cuda.
# --prefix DIR overrides it as is (no suffix). --print-prefix prints it and exits.
#
# System llama.cpp: for the default variant (no --from-source/--cuda/--prefix) a
# llama.cpp already known to pkg-config is used instead when `pkg-config --modversion
# llama` (with the caller's PKG_CONFIG_PATH minus this script's own prefixes) reports
# 0.5.0 or 0.5.0-dev, and (unless --no-verify) the check program (end of this
# header) builds and runs against it. Why those strings: the llama.pc of a CMake
# install of this release comes from cmake/llama.pc.in, "Version: @LLAMA_VERSION@";
# CMakeLists.txt sets
# LLAMA_VERSION_BASE 0.5.0 and LLAMA_VERSION = "0.5.0-dev" unless configured with
# -DLLAMA_BUILD_IS_DEV=OFF (then "0.5.0"), and the default is ON, so a plain build of
# the v0.5.0 tag says "0.5.0-dev". (Upstream snapshots before the tag that already
# carried 0.5.0 would say so too; the run-time check catches gross mismatches.)
# Set LABELFREE_LLAMA_SYSTEM=0 to never use a system llama.cpp.
#
# --from-source [--cuda]: builds the same source with CMake: shared libraries, CPU
# backend for this machine (GGML_NATIVE=ON; ggml refuses GGML_NATIVE together with
# GGML_BACKEND_DL on x86, so the backends are linked into libggml rather than loaded at
# run time; ggml_backend_load_all_from_path(<lib>) is then a harmless no-op), and
# -DGGML_CUDA=ON with --cuda (programs then need the CUDA runtime libraries to start).
# It applies llama/patches/PR-22566.diff from node-llama-cpp@3.22.1 first, as
# node-llama-cpp does for its prebuilt libraries (their libllama contains that change),
# so both variants behave alike; src/ stays the unpatched checkout.
#
# Environment:
#   LABELFREE_LLAMA_PREFIX      base of the default prefix (see above)
#   LABELFREE_DOWNLOAD_DIR      tarball cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/labelfree/downloads)
#   LABELFREE_LLAMA_SYSTEM=0    never use a system llama.cpp
#   LABELFREE_JOBS              parallel build jobs for --from-source (default: nproc)
#   LABELFREE_CUDA_ARCHITECTURES  CMAKE_CUDA_ARCHITECTURES for --from-source --cuda
#                               (default: ggml's choice, "native" = GPUs present at build time)
#   CC, CXX                     compilers (verification program, CMake)
#
# After installing, a small C program is compiled against the prefix through
# pkg-config and run without LD_LIBRARY_PATH: ggml_backend_load_all_from_path(<lib>),
# llama_backend_init(), ggml_backend_dev_count() > 0 and a device named "CPU".
# --no-verify skips it.
set -euo pipefail

readonly LLAMA_TAG=v0.5.0
readonly LLAMA_VERSION=0.5.0
readonly LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6
readonly NLC_VERSION=3.22.1
readonly PKG_SRC=node-llama-cpp
readonly PKG_CPU=@node-llama-cpp/linux-x64
readonly PKG_CUDA=@node-llama-cpp/linux-x64-cuda
readonly PKG_CUDA_EXT=@node-llama-cpp/linux-x64-cuda-ext
# Bump when the layout this script produces changes: old installs are then redone.
readonly SCRIPT_REV=1

# sha512 (hex) of the `npm pack` tarballs; equal to the registry's dist.integrity
# (`npm view <pkg>@3.22.1 dist.integrity`, base64 of the same digest).
pinned_sha512() {
	case $1 in
	"$PKG_SRC") echo 6e5b488a9b9699cd76dc7eed30880318a4ac4ab866865418795502e3c5d38d55bb5c624988927209d95333343f2e25a83e4183a5c2f816f883a60c3ba9f4e20f ;;
	"$PKG_CPU") echo e6e0820cda9608d7da026f1a47f533c5ba381c1a4a80d17dd640873dea4a86032057638099ab6879f6ce94c8a1b2a0a21f639ddf913f7941d00856df44126e3a ;;
	"$PKG_CUDA") echo f2b4028f234d2d9254162b7e6298f0942e21c242a038c224076c2ec9c2817fc354d8edf248a6e259943c6b0f64bb69d44d78d29d422b13a281f3c8ad76e4c1b8 ;;
	"$PKG_CUDA_EXT") echo e1ee5a8e488cd9a476580741fcdfc00a4e30784847bce008af3c593ec217d310c55b9fba8614a1bb2d7fbecf3c48af4d19d800728f48c84dbc7984b41f579fa4 ;;
	*) return 1 ;;
	esac
}

# Approximate download sizes, for the progress line only.
pkg_size() {
	case $1 in
	"$PKG_SRC") echo "37 MB" ;;
	"$PKG_CPU") echo "10 MB" ;;
	"$PKG_CUDA") echo "143 MB" ;;
	"$PKG_CUDA_EXT") echo "177 MB" ;;
	esac
}

prog=${0##*/}

usage() {
	cat <<EOF
Usage: $prog [--from-source] [--cuda | --cuda12] [--prefix DIR] [--no-verify]
       $prog [...] --print-prefix
       $prog -h|--help

Installs llama.cpp $LLAMA_TAG (headers, shared libraries, lib/pkgconfig/llama.pc with an
rpath) into a cached prefix and verifies it.

  (default)      prebuilt CPU libraries from the npm package $PKG_CPU@$NLC_VERSION
                 (Linux x86_64, glibc >= 2.34); a suitable system llama.cpp found by
                 pkg-config (Version 0.5.0 or 0.5.0-dev) is used instead if present
  --cuda         with CUDA: prebuilt from $PKG_CUDA@$NLC_VERSION (CUDA 13 runtime),
                 or with --from-source a build with -DGGML_CUDA=ON (needs nvcc)
  --cuda12       prebuilt CUDA backend for CUDA 12 runtimes/older GPUs
                 ($PKG_CUDA_EXT@$NLC_VERSION)
  --from-source  build the same source with CMake (needs cmake and a C++ compiler)
  --prefix DIR   install into DIR instead of the default prefix
  --no-verify    skip compiling and running the check program
  --print-prefix print the prefix that would be used and exit
  -h, --help     show this help

Default prefix: \${LABELFREE_LLAMA_PREFIX:-\${XDG_CACHE_HOME:-\$HOME/.cache}/labelfree/llama.cpp-$LLAMA_TAG}
with suffix -cuda, -cuda12, -src or -src-cuda for the variants.
Use it with: PKG_CONFIG_PATH=\$($prog --print-prefix)/lib/pkgconfig go build ./...
EOF
}

die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 1
}
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
usage_error() {
	printf '%s: %s\n' "$prog" "$*" >&2
	printf "Try '%s --help'.\n" "$prog" >&2
	exit 2
}

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
from_source=0
cuda=0 # 0: none, 13: --cuda (CUDA 13 prebuilt / CUDA from source), 12: --cuda12
prefix=
print_prefix=0
verify=1
while (($#)); do
	case $1 in
	--from-source) from_source=1 ;;
	--cuda) cuda=13 ;;
	--cuda12) cuda=12 ;;
	--prefix)
		(($# >= 2)) || usage_error "--prefix needs a directory"
		prefix=$2
		shift
		;;
	--prefix=*) prefix=${1#--prefix=} ;;
	--print-prefix) print_prefix=1 ;;
	--no-verify) verify=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown argument: $1" ;;
	esac
	shift
done
if ((from_source && cuda == 12)); then
	usage_error "--cuda12 selects a prebuilt package; with --from-source use --cuda (the installed CUDA toolkit decides the version)"
fi

case $from_source/$cuda in
0/0) variant=prebuilt suffix='' ;;
0/13) variant=prebuilt-cuda suffix=-cuda ;;
0/12) variant=prebuilt-cuda12 suffix=-cuda12 ;;
1/0) variant=src suffix=-src ;;
1/13) variant=src-cuda suffix=-src-cuda ;;
esac

cache_home=${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}
default_base=${LABELFREE_LLAMA_PREFIX:-$cache_home/labelfree/llama.cpp-$LLAMA_TAG}
explicit_prefix=0
if [[ -n $prefix ]]; then
	explicit_prefix=1
else
	prefix=$default_base$suffix
fi
# Absolute, without trailing slashes.
[[ $prefix == /* ]] || prefix=$PWD/$prefix
while [[ $prefix == */ && $prefix != / ]]; do prefix=${prefix%/}; done
[[ $prefix != / ]] || die "refusing to use / as the prefix"

if ((print_prefix)); then
	printf '%s\n' "$prefix"
	exit 0
fi

# pkg-config and cgo cannot cope with blanks in paths.
case $prefix in
*[[:space:]]*) die "the prefix must not contain whitespace: '$prefix' (use --prefix or LABELFREE_LLAMA_PREFIX)" ;;
esac

stamp_file=$prefix/.labelfree-installed
owner_file=$prefix/.labelfree-owner
expected_stamp="llama.cpp=$LLAMA_TAG
commit=$LLAMA_COMMIT
variant=$variant
node-llama-cpp=$NLC_VERSION
prefix=$prefix
script-rev=$SCRIPT_REV"

is_installed() { [[ -f $stamp_file && $(<"$stamp_file") == "$expected_stamp" ]]; }

if is_installed; then
	note "llama.cpp $LLAMA_TAG ($variant) is installed in $prefix"
	exit 0
fi

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
cleanup_paths=()
cleanup() {
	local p
	for p in "${cleanup_paths[@]+"${cleanup_paths[@]}"}"; do
		[[ -n $p && -e $p ]] && rm -rf -- "$p"
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have() { command -v "$1" >/dev/null 2>&1; }

sha512_of() {
	local out
	if have sha512sum; then
		out=$(sha512sum -- "$1")
	elif have shasum; then
		out=$(shasum -a 512 -- "$1")
	else
		die "neither sha512sum nor shasum found (Debian: apt-get install coreutils)"
	fi
	printf '%s\n' "${out%% *}"
}

find_cc() {
	local c
	for c in ${CC:+"$CC"} cc gcc clang; do
		if have "$c"; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

find_cxx() {
	local c
	for c in ${CXX:+"$CXX"} c++ g++ clang++; do
		if have "$c"; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

require_npm() {
	have npm || die "npm not found: install Node.js/npm (Debian: apt-get install npm); it fetches the llama.cpp packages from the npm registry"
}
require_git() {
	have git || die "git not found: install git (Debian: apt-get install git); it unpacks the llama.cpp source bundle"
}
require_tar() {
	have tar || die "tar not found (Debian: apt-get install tar)"
}
require_verify_tools() {
	((verify)) || return 0
	find_cc >/dev/null || die "no C compiler found for the check program: install gcc (Debian: apt-get install gcc) or pass --no-verify"
	have pkg-config || die "pkg-config not found: install it (Debian: apt-get install pkg-config); cgo needs it for '#cgo pkg-config: llama'"
}

# "2.36" >= "2.34"?
version_ge() {
	local a=$1 b=$2 a1 a2 b1 b2
	a1=${a%%.*} a2=${a#*.} b1=${b%%.*} b2=${b#*.}
	a2=${a2%%.*} b2=${b2%%.*}
	((a1 > b1 || (a1 == b1 && a2 >= b2)))
}

check_prebuilt_platform() {
	local os arch glibc libstdcxx
	os=$(uname -s) arch=$(uname -m)
	if [[ $os != Linux || $arch != x86_64 ]]; then
		die "prebuilt llama.cpp libraries exist only for Linux x86_64 (this is $os $arch); use --from-source"
	fi
	if ! glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null) || [[ $glibc != glibc\ * ]]; then
		die "the prebuilt libraries need glibc >= 2.34 and this system's C library is not glibc; use --from-source"
	fi
	glibc=${glibc#glibc }
	version_ge "$glibc" 2.34 ||
		die "the prebuilt libraries need glibc >= 2.34 (GLIBC_2.34 symbols); this system has $glibc; use --from-source"
	# libllama needs GLIBCXX_3.4.29 (libstdc++ of GCC >= 11). Checked only when the
	# library can be found; the check program catches the rest.
	libstdcxx=
	if have ldconfig || [[ -x /sbin/ldconfig ]]; then
		libstdcxx=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } |
			awk '$1 == "libstdc++.so.6" && /x86-64/ { print $NF; exit }')
	fi
	if [[ -n $libstdcxx && -r $libstdcxx ]] && ! grep -aq 'GLIBCXX_3\.4\.29' "$libstdcxx"; then
		die "the prebuilt libraries need libstdc++ with GLIBCXX_3.4.29 (GCC >= 11); $libstdcxx is older; use --from-source"
	fi
}

# Tarball file name `npm pack` writes for a package: @a/b -> a-b-<ver>.tgz
tarball_name() {
	local n=${1#@}
	printf '%s-%s.tgz\n' "${n//\//-}" "$NLC_VERSION"
}

# fetch_pkg NAME: sets FETCHED to the verified tarball in the download cache.
FETCHED=
fetch_pkg() {
	local name=$1 want file got tmpd msg
	want=$(pinned_sha512 "$name") || die "internal: no checksum pinned for $name"
	file=$download_dir/$(tarball_name "$name")
	if [[ -f $file ]]; then
		got=$(sha512_of "$file")
		if [[ $got == "$want" ]]; then
			FETCHED=$file
			return 0
		fi
		note "cached $file has the wrong checksum; fetching it again"
		rm -f -- "$file"
	fi
	require_npm
	note "fetching $name@$NLC_VERSION (about $(pkg_size "$name")) with npm pack"
	tmpd=$(mktemp -d "$download_dir/.npm-pack.XXXXXX")
	cleanup_paths+=("$tmpd")
	if ! (cd "$tmpd" && npm pack --silent --loglevel=error "$name@$NLC_VERSION" >"$tmpd/npm.out" 2>"$tmpd/npm.err"); then
		msg=$(grep -v -e 'complete log of this run' -e '^npm error *$' "$tmpd/npm.err" 2>/dev/null | head -n 4 || true)
		die "could not download $name@$NLC_VERSION with 'npm pack': the npm registry ($(npm config get registry 2>/dev/null || echo 'https://registry.npmjs.org/')) must be reachable${msg:+; npm said:
$msg}"
	fi
	[[ -f $tmpd/$(tarball_name "$name") ]] || die "npm pack $name@$NLC_VERSION did not produce $(tarball_name "$name")"
	got=$(sha512_of "$tmpd/$(tarball_name "$name")")
	[[ $got == "$want" ]] ||
		die "checksum mismatch for $name@$NLC_VERSION: sha512 $got, expected $want"
	mv -f -- "$tmpd/$(tarball_name "$name")" "$file"
	rm -rf -- "$tmpd"
	FETCHED=$file
}

# The check program: what the binding does at start-up.
write_check_program() {
	cat >"$1" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "ggml-backend.h"
#include "llama.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBDIR\n", argv[0]);
        return 2;
    }
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    size_t n = ggml_backend_dev_count();
    int cpu = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = ggml_backend_dev_name(ggml_backend_dev_get(i));
        printf("%s\n", name ? name : "(null)");
        if (name && strcmp(name, "CPU") == 0) {
            cpu = 1;
        }
    }
    llama_backend_free();
    if (n == 0) {
        fprintf(stderr, "no ggml backend device after ggml_backend_load_all_from_path(\"%s\")\n", argv[1]);
        return 1;
    }
    if (!cpu) {
        fprintf(stderr, "no device named CPU after ggml_backend_load_all_from_path(\"%s\")\n", argv[1]);
        return 1;
    }
    return 0;
}
EOF
}

# run_check DIR PKG_CONFIG_PATH LIBDIR: compile the check program with
# `pkg-config --cflags --libs llama` and run it without LD_LIBRARY_PATH. Sets
# CHECK_DEVICES (space-separated device names) and CHECK_LOG; returns non-zero on failure.
CHECK_DEVICES=
CHECK_LOG=
run_check() {
	local dir=$1 pcpath=$2 libdir=$3 cc flags
	local -a cflags
	CHECK_LOG=$dir/check.log
	CHECK_DEVICES=
	: >"$CHECK_LOG"
	cc=$(find_cc) || return 1
	write_check_program "$dir/check.c"
	if ! flags=$(PKG_CONFIG_PATH=$pcpath pkg-config --cflags --libs llama 2>>"$CHECK_LOG"); then
		echo "pkg-config --cflags --libs llama failed" >>"$CHECK_LOG"
		return 1
	fi
	read -r -a cflags <<<"$flags"
	if ! "$cc" -o "$dir/check" "$dir/check.c" "${cflags[@]}" >>"$CHECK_LOG" 2>&1; then
		echo "compiling the check program failed: $cc -o check check.c $flags" >>"$CHECK_LOG"
		return 1
	fi
	if ! env -u LD_LIBRARY_PATH "$dir/check" "$libdir" >"$dir/check.out" 2>>"$CHECK_LOG"; then
		cat "$dir/check.out" >>"$CHECK_LOG"
		echo "the check program failed (run without LD_LIBRARY_PATH)" >>"$CHECK_LOG"
		return 1
	fi
	CHECK_DEVICES=$(tr '\n' ' ' <"$dir/check.out")
	CHECK_DEVICES=${CHECK_DEVICES% }
}

show_log() {
	[[ -s $1 ]] || return 0
	printf '%s: --- %s (last lines) ---\n' "$prog" "${2:-log}" >&2
	tail -n "${3:-25}" -- "$1" | sed 's/^/  /' >&2
}

# ---------------------------------------------------------------------------
# System llama.cpp
# ---------------------------------------------------------------------------
# PKG_CONFIG_PATH of the caller without this script's own prefixes.
foreign_pkg_config_path() {
	local p own=$prefix/lib/pkgconfig
	local -a keep=() parts=()
	IFS=: read -r -a parts <<<"${PKG_CONFIG_PATH:-}"
	for p in "${parts[@]+"${parts[@]}"}"; do
		p=${p%/}
		[[ -z $p || $p == "$own" || $p == "$default_base"*/lib/pkgconfig ]] && continue
		keep+=("$p")
	done
	local IFS=:
	printf '%s\n' "${keep[*]+"${keep[*]}"}"
}

try_system_llama() {
	local pcpath version pcdir libdir dir
	[[ ${LABELFREE_LLAMA_SYSTEM:-1} != 0 ]] || return 1
	((!from_source && !cuda && !explicit_prefix)) || return 1
	have pkg-config || return 1
	pcpath=$(foreign_pkg_config_path)
	version=$(PKG_CONFIG_PATH=$pcpath pkg-config --modversion llama 2>/dev/null) || return 1
	pcdir=$(PKG_CONFIG_PATH=$pcpath pkg-config --variable=pcfiledir llama 2>/dev/null || true)
	case $version in
	"$LLAMA_VERSION" | "$LLAMA_VERSION-dev") ;;
	*)
		note "ignoring the system llama.cpp ${pcdir:+in $pcdir }(version $version, need $LLAMA_VERSION)"
		return 1
		;;
	esac
	if ((verify)); then
		if ! find_cc >/dev/null; then
			note "found a system llama.cpp $version but no C compiler to check it; installing our own"
			return 1
		fi
		libdir=$(PKG_CONFIG_PATH=$pcpath pkg-config --variable=libdir llama 2>/dev/null || true)
		dir=$(mktemp -d "${TMPDIR:-/tmp}/labelfree-llama-check.XXXXXX")
		cleanup_paths+=("$dir")
		if ! run_check "$dir" "$pcpath" "$libdir"; then
			note "the system llama.cpp $version ${pcdir:+in $pcdir }did not pass the check; installing our own"
			show_log "$CHECK_LOG" "check of the system llama.cpp" 10
			return 1
		fi
	fi
	note "using the system llama.cpp $version${pcdir:+ ($pcdir/llama.pc)}${CHECK_DEVICES:+, devices: $CHECK_DEVICES}; nothing installed"
	return 0
}

if try_system_llama; then
	exit 0
fi

# ---------------------------------------------------------------------------
# Install
# ---------------------------------------------------------------------------
parent=${prefix%/*}
[[ -n $parent ]] || parent=/
base=${prefix##*/}
mkdir -p -- "$parent" || die "cannot create $parent"
[[ -w $parent ]] || die "$parent is not writable"

# One installer per prefix at a time.
if have flock; then
	exec 9>"$parent/.$base.lock"
	if ! flock -n 9; then
		note "waiting for another install into $prefix"
		flock 9
	fi
	if is_installed; then
		note "llama.cpp $LLAMA_TAG ($variant) is installed in $prefix"
		exit 0
	fi
	# Holding the lock: temporary trees left by killed runs are garbage.
	for d in "$parent/.$base.tmp."*; do
		[[ -d $d ]] && rm -rf -- "$d"
	done
fi

# Refuse to replace a directory this script did not create.
if [[ -e $prefix || -L $prefix ]]; then
	if [[ ! -d $prefix || -L $prefix ]]; then
		die "$prefix exists and is not a directory; remove it or choose another --prefix"
	fi
	if [[ ! -e $owner_file && ! -e $stamp_file ]] && [[ -n $(ls -A -- "$prefix") ]]; then
		die "$prefix exists and was not created by $prog; remove it or choose another --prefix"
	fi
fi

download_dir=${LABELFREE_DOWNLOAD_DIR:-$cache_home/labelfree/downloads}
mkdir -p -- "$download_dir" || die "cannot create $download_dir"

# Checks before any download.
require_git
require_tar
require_verify_tools
if ((from_source)); then
	have cmake || die "--from-source needs cmake: install it (Debian: apt-get install cmake)"
	find_cxx >/dev/null || die "--from-source needs a C++ compiler: install g++ (Debian: apt-get install g++)"
	find_cc >/dev/null || die "--from-source needs a C compiler: install gcc (Debian: apt-get install gcc)"
	if ((cuda)); then
		nvcc=${CUDACXX:-}
		if [[ -n $nvcc && $nvcc != */* ]]; then
			nvcc=$(command -v "$nvcc" || true)
		elif [[ -z $nvcc ]]; then
			if have nvcc; then
				nvcc=$(command -v nvcc)
			elif [[ -x /usr/local/cuda/bin/nvcc ]]; then
				nvcc=/usr/local/cuda/bin/nvcc
			fi
		fi
		[[ -n $nvcc && -x $nvcc ]] ||
			die "--from-source --cuda needs the CUDA toolkit (nvcc not found on PATH, in \$CUDACXX or /usr/local/cuda/bin): install it from NVIDIA (Debian: apt-get install nvidia-cuda-toolkit)"
	fi
else
	check_prebuilt_platform
fi

# Temporary tree next to the prefix (same file system: the final move is a rename).
tmp=$(mktemp -d "$parent/.$base.tmp.XXXXXX")
cleanup_paths+=("$tmp")
stage=$tmp/stage
work=$tmp/work
mkdir -p -- "$work"

# --- the source bundle (always: headers and src/) ---
fetch_pkg "$PKG_SRC"
src_tgz=$FETCHED
tar -xzf "$src_tgz" -C "$work" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json \
	package/llama/patches ||
	die "could not unpack $src_tgz"
grep -q "\"tag\": *\"$LLAMA_TAG\"" "$work/package/llama/llama.cpp.info.json" ||
	die "$src_tgz does not describe llama.cpp $LLAMA_TAG (llama/llama.cpp.info.json)"

# Keep $stage a marked, incomplete tree until it is renamed into place.
mkdir -p -- "$stage"
printf 'created by %s (labelfree); may be deleted and re-created by it\n' "$prog" >"$stage/.labelfree-owner"

clone_log=$work/git.log
if ! git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$stage/src" >"$clone_log" 2>&1; then
	show_log "$clone_log" "git clone"
	die "git clone of the llama.cpp source bundle failed"
fi
head=$(git -C "$stage/src" rev-parse HEAD)
[[ $head == "$LLAMA_COMMIT" ]] || die "the source bundle holds commit $head, expected $LLAMA_COMMIT ($LLAMA_TAG)"
git -C "$stage/src" remote remove origin
git -C "$stage/src" tag "$LLAMA_TAG" HEAD

install_headers() {
	mkdir -p -- "$stage/include"
	cp -- "$stage/src/include/llama.h" "$stage/src/include/llama-cpp.h" "$stage/src/ggml/include/"*.h "$stage/include/"
	chmod 0644 "$stage/include/"*.h
}

# write_pc LIBNAME...: lib/pkgconfig/llama.pc in the final (absolute) locations.
write_pc() {
	local desc=$1 libs='' l
	shift
	for l in "$@"; do libs+=" -l$l"; done
	mkdir -p -- "$stage/lib/pkgconfig"
	cat >"$stage/lib/pkgconfig/llama.pc" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=$prefix/lib
includedir=$prefix/include

Name: llama
Description: llama.cpp $LLAMA_TAG ($desc), installed by labelfree $prog
URL: https://github.com/ggml-org/llama.cpp
Version: $LLAMA_VERSION
Libs: -L\${libdir} -Wl,-rpath,\${libdir}$libs
Cflags: -I\${includedir}
EOF
}

if ((!from_source)); then
	# --- prebuilt ---
	if ((cuda)); then
		fetch_pkg "$PKG_CUDA"
		bin_tgz=$FETCHED
		bins_rel=package/bins/linux-x64-cuda
		desc="prebuilt $PKG_CUDA@$NLC_VERSION"
	else
		fetch_pkg "$PKG_CPU"
		bin_tgz=$FETCHED
		bins_rel=package/bins/linux-x64
		desc="prebuilt $PKG_CPU@$NLC_VERSION"
	fi
	tar -xzf "$bin_tgz" -C "$work" "$bins_rel" || die "could not unpack $bin_tgz"
	bins=$work/$bins_rel
	grep -q "\"release\": *\"$LLAMA_TAG\"" "$bins/_nlcBuildMetadata.json" ||
		die "$bin_tgz was not built from llama.cpp $LLAMA_TAG (_nlcBuildMetadata.json)"

	mkdir -p -- "$stage/lib"
	shopt -s nullglob
	sos=("$bins"/*.so)
	llama_libs=("$bins"/libllama*."$LLAMA_TAG".so)
	ggml_libs=("$bins"/libggml*."$LLAMA_TAG".so)
	shopt -u nullglob
	((${#sos[@]} > 0)) || die "no shared libraries in $bin_tgz"
	((${#llama_libs[@]} == 1 && ${#ggml_libs[@]} == 1)) ||
		die "expected one libllama*.$LLAMA_TAG.so and one libggml*.$LLAMA_TAG.so in $bin_tgz"
	[[ -f $bins/libggml-base.so ]] || die "libggml-base.so missing from $bin_tgz"
	for f in "${sos[@]}"; do
		cp -- "$f" "$stage/lib/"
	done

	if ((cuda == 12)); then
		fetch_pkg "$PKG_CUDA_EXT"
		ext_tgz=$FETCHED
		tar -xzf "$ext_tgz" -C "$work" package/bins/linux-x64-cuda/fallback/libggml-cuda.so ||
			die "could not unpack $ext_tgz"
		cp -- "$work/package/bins/linux-x64-cuda/fallback/libggml-cuda.so" "$stage/lib/libggml-cuda.so"
		desc="prebuilt $PKG_CUDA@$NLC_VERSION with the CUDA 12 backend of $PKG_CUDA_EXT@$NLC_VERSION"
	fi
	chmod 0755 "$stage/lib/"*.so
	ln -s -- "${llama_libs[0]##*/}" "$stage/lib/libllama.so"
	ln -s -- "${ggml_libs[0]##*/}" "$stage/lib/libggml.so"
	install_headers
	write_pc "$desc" llama ggml ggml-base
else
	# --- from source ---
	jobs=${LABELFREE_JOBS:-}
	if [[ -z $jobs ]]; then
		jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
	fi
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "LABELFREE_JOBS must be a positive integer, not '$jobs'"

	# Build from a patched copy; $stage/src stays pristine.
	buildsrc=$work/llama.cpp
	git -c advice.detachedHead=false clone --quiet --shared "$stage/src" "$buildsrc" >>"$clone_log" 2>&1 ||
		die "could not copy the llama.cpp checkout for building"
	for p in "$work"/package/llama/patches/*.diff; do
		[[ -e $p ]] || continue
		git -C "$buildsrc" apply "$p" || die "could not apply ${p##*/} to llama.cpp $LLAMA_TAG"
	done

	cmake_args=(
		-S "$buildsrc" -B "$work/build"
		-DCMAKE_BUILD_TYPE=Release
		-DCMAKE_INSTALL_PREFIX="$prefix"
		-DCMAKE_INSTALL_LIBDIR=lib
		-DCMAKE_INSTALL_RPATH="$prefix/lib"
		-DCMAKE_C_COMPILER="$(find_cc)"
		-DCMAKE_CXX_COMPILER="$(find_cxx)"
		-DBUILD_SHARED_LIBS=ON
		-DLLAMA_BUILD_IS_DEV=OFF
		-DLLAMA_BUILD_COMMON=OFF
		-DLLAMA_BUILD_TESTS=OFF
		-DLLAMA_BUILD_EXAMPLES=OFF
		-DLLAMA_BUILD_SERVER=OFF
		-DLLAMA_BUILD_TOOLS=OFF
		-DLLAMA_BUILD_APP=OFF
		-DGGML_NATIVE=ON
		-DGGML_BACKEND_DL=OFF
	)
	desc="built from source"
	if ((cuda)); then
		cmake_args+=(-DGGML_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc")
		if [[ -n ${LABELFREE_CUDA_ARCHITECTURES:-} ]]; then
			cmake_args+=(-DCMAKE_CUDA_ARCHITECTURES="$LABELFREE_CUDA_ARCHITECTURES")
		fi
		desc="built from source with CUDA"
	fi
	build_log=$work/build.log
	saved_log=$cache_home/labelfree/install-llama-build.log
	build_failed() {
		{ mkdir -p -- "${saved_log%/*}" && cp -f -- "$build_log" "$saved_log"; } || true
		show_log "$build_log" "build log" 30
		die "$1 (full log: $saved_log)"
	}
	note "building llama.cpp $LLAMA_TAG from source with $jobs jobs (takes several minutes)"
	cmake "${cmake_args[@]}" >"$build_log" 2>&1 || build_failed "cmake configure failed"
	cmake --build "$work/build" --config Release -j "$jobs" >>"$build_log" 2>&1 || build_failed "cmake build failed"
	DESTDIR=$work/destdir cmake --install "$work/build" >>"$build_log" 2>&1 || build_failed "cmake install failed"
	installed=$work/destdir$prefix
	[[ -d $installed/lib ]] || build_failed "cmake install did not produce $prefix/lib"
	# Merge the installed tree into the stage (which holds src/ and the owner mark).
	(cd "$installed" && tar -cf - .) | (cd "$stage" && tar -xf -) || die "could not copy the installed files"
	install_headers

	names=()
	for n in llama ggml ggml-base; do
		if [[ -e $stage/lib/lib$n.so || -e $stage/lib/lib$n.dylib ]]; then
			names+=("$n")
		elif [[ $n != ggml-base ]]; then
			die "the build did not produce lib$n.so in $prefix/lib"
		fi
	done
	shopt -s nullglob
	backends=("$stage"/lib/libggml-cpu*.so "$stage"/lib/libggml-cpu*.dylib)
	shopt -u nullglob
	((${#backends[@]} > 0)) || build_failed "the build did not install a CPU backend (libggml-cpu*.so) into $prefix/lib"
	write_pc "$desc" "${names[@]}"
fi

# --- move into place ---
old=$tmp/old
if [[ -e $prefix ]]; then
	mv -- "$prefix" "$old"
fi
mv -- "$stage" "$prefix"

# --- verify (the stamp is written only afterwards) ---
devices=
if ((verify)); then
	mkdir -p -- "$work/check"
	if ! run_check "$work/check" "$prefix/lib/pkgconfig" "$prefix/lib"; then
		show_log "$CHECK_LOG" "check program"
		die "llama.cpp in $prefix does not work (see above); it is left without its stamp and will be reinstalled on the next run"
	fi
	devices=$CHECK_DEVICES
fi

printf '%s\n' "$expected_stamp" >"$prefix/.labelfree-installed.tmp"
mv -f -- "$prefix/.labelfree-installed.tmp" "$stamp_file"

# --- summary ---
note "installed llama.cpp $LLAMA_TAG ($desc) in $prefix${devices:+; devices: $devices}"
note "  use: PKG_CONFIG_PATH=$prefix/lib/pkgconfig"
if ((cuda)); then
	if ((cuda == 12)); then
		need="NVIDIA driver (libcuda.so.1) and CUDA 12 runtime (libcudart.so.12, libcublas.so.12)"
	elif ((from_source)); then
		need="NVIDIA driver (libcuda.so.1) and the CUDA runtime of the toolkit used for the build (libcudart, libcublas)"
	else
		need="NVIDIA driver >= 580 (libcuda.so.1) and CUDA 13 runtime (libcudart.so.13, libcublas.so.13), GPU sm_75 or newer (else use --cuda12)"
	fi
	note "  CUDA at run time needs: $need"
	case " $devices " in
	*" CUDA"*) ;;
	*)
		missing=
		if have ldd && [[ -e $prefix/lib/libggml-cuda.so ]]; then
			missing=$(ldd "$prefix/lib/libggml-cuda.so" 2>/dev/null | awk '/not found/ { printf "%s ", $1 }')
		fi
		if ((verify)); then
			note "  no CUDA device found here${missing:+ (missing: ${missing% })}: programs run on the CPU backend"
		fi
		;;
	esac
fi
