#!/usr/bin/env bash
# llamacpp-bench.sh: build llama.cpp's own benchmark tools from the pinned v0.5.0 source
# and run them, so that our binding can be measured side by side with llama.cpp itself
# (same machine, same model, same thread count, same source).
#
# Usage: scripts/llamacpp-bench.sh [--openmp|--linked] build [--rebuild] [--print-dir]
#        scripts/llamacpp-bench.sh [--openmp|--linked] server [--rebuild] [--print-dir]
#        scripts/llamacpp-bench.sh [--openmp|--linked] batched MODEL [options] [-- TOOL-ARGS...]
#        scripts/llamacpp-bench.sh [--openmp|--linked] pp MODEL [options] [-- TOOL-ARGS...]
#        scripts/llamacpp-bench.sh -h|--help
#
# build: takes the pristine llama.cpp checkout that scripts/install-llama.sh keeps in
#   $(scripts/install-llama.sh --print-prefix)/src (running that script first when the
#   checkout is missing), checks that it is the pinned commit without local changes, and
#   builds llama-batched-bench, llama-bench and llama-perplexity with CMake:
#     Release, BUILD_SHARED_LIBS=OFF (the tools link libllama/libggml statically, so they
#     need nothing from the prefix at run time), GGML_NATIVE=ON (-march=native),
#     GGML_BACKEND_DL=OFF, LLAMA_OPENSSL=OFF (no HTTPS: v0.5.0 has no LLAMA_CURL option any
#     more, downloads go through cpp-httplib), no tests/examples/server/app, and only
#     the three targets.
#     GGML_OPENMP=OFF by default: the prebuilt libraries our binding loads
#     (@node-llama-cpp/linux-x64) are built without OpenMP and use ggml's own thread
#     pool, so the tools use the same threading. --openmp builds with GGML_OPENMP=ON
#     instead (like `install-llama.sh --from-source`, whose build uses libgomp when the
#     compiler has it), into a separate directory.
#   --linked compiles the same three tools' sources instead against the libraries
#     install-llama.sh installed (libllama, libllama-common, libggml and the ggml CPU
#     backends it loads at run time): the very code our binding runs, so a comparison
#     measures the binding, not two builds of llama.cpp. The backends are linked
#     (symlinks) next to the executables, where ggml looks for them. Directory suffix
#     -linked; no CMake needed, well under a minute.
#   The build happens in a temporary directory next to the tools directory (log:
#   <tools directory>.build.log, also copied into it); only the executables, BUILD-INFO
#   and build.log are kept, and the stamp .labelfree-built is written last.
#   While the stamp matches (llama.cpp commit, CMake arguments, compiler, CPU, this
#   script's revision) a second run returns at once. The last line on stdout is the tools
#   directory (the executables are directly in it).
#
# server: builds llama.cpp's llama-server (tools/server) the same ways, into a directory of
#   its own (suffix -server instead of -tools), for tests of the OpenAI-compatible HTTP
#   backend against the very code our binding runs. The server has no web UI: the UI's
#   assets come from the network (Hugging Face) or npm, neither of which a build here may
#   need, so it is built as llama.cpp builds it with LLAMA_BUILD_UI=OFF and
#   LLAMA_USE_PREBUILT_UI=OFF (tools/ui/CMakeLists.txt, scripts/ui-assets.cmake: an empty
#   asset table; the API is unaffected).
#   --linked (what `make test` uses; about 2-4 minutes on 2 cores) compiles the server's
#   sources, the multimodal library mtmd it links (tools/mtmd; not in the prebuilt
#   libraries) and vendor/hash against the installed libllama, libllama-common (which
#   holds common, cpp-httplib and the build info) and libggml; ui.cpp/ui.h are
#   instantiated from tools/ui/*.in as ui-assets.cmake does without assets.
#   LLAMA_SUBPROCESS is defined exactly when libllama-common was built with it (probed:
#   it changes the layout of common_subproc). Without --linked: a static CMake build of
#   the llama-server target only (-DLLAMA_BUILD_SERVER=ON, otherwise the build's
#   arguments above), for prefixes without libllama-common (install-llama.sh
#   --from-source).
#
# batched: runs llama-batched-bench (tools/batched-bench) with
#     -m MODEL -c N_CTX -b 2048 -ub 512 -npp LIST -ntg LIST -npl LIST -t N -tb N -pps -kvu
#     [-fa X] [-ctk T] [-ctv T] --output-format jsonl -lv 4
#   where N_CTX is the smallest context that holds every (pp, tg, pl) combination (the
#   tool silently skips combinations that do not fit; this script warns if a row is
#   missing). -pps: the prompt of PP tokens is decoded once and shared by all B
#   sequences (llama_memory_seq_cp); -kvu: one unified KV buffer for all sequences;
#   -lv 4 only makes the tool log its context set-up (read here to tell what flash
#   attention "auto" became). It prints the tool's results table (rendered from the
#   tool's own JSONL, same columns and number formats as its markdown output), then
#   the JSONL rows: the tool's fields (n_kv_max, n_batch, n_ubatch, flash_attn [-1 auto,
#   0 off, 1 on], is_pp_shared, n_gpu_layers, n_threads, n_threads_batch, pp, tg,
#   pl (= B), n_kv, t_pp, speed_pp, t_tg, speed_tg, t, speed; times in s, speeds in
#   tokens/s) followed by fields added here: tool, llama_cpp, commit, model,
#   kv_unified, flash_attn_used (enabled/disabled), type_k, type_v[, extra_args].
#
# pp: runs llama-bench for prompt processing only:
#     -m MODEL -p N_PROMPT -n 0 -b BATCH -t N -r REPS -o json [-ub U] [-fa X] [-ctk T] [-ctv T]
#   and prints its JSON (stdout); a one-line summary per test goes to stderr.
#
# Defaults follow llama.cpp (flash attention auto, F16 KV cache) unless --exact (F32 KV
# cache, flash attention off: the setting in which llama.cpp matches a float64
# reference forward pass to about 1e-6) or the individual options are given.
#
# Environment:
#   LABELFREE_LLAMA_TOOLS_DIR  tools directory (default
#                              ${XDG_CACHE_HOME:-$HOME/.cache}/labelfree/llama.cpp-v0.5.0-tools;
#                              --openmp adds the suffix -openmp, --linked -linked)
#   LABELFREE_LLAMA_SERVER_DIR llama-server directory (default the same with -server in
#                              place of -tools, and the same suffixes)
#   LABELFREE_JOBS             parallel build jobs (default: nproc)
#   CC, CXX                    compilers for the build
#   LABELFREE_LLAMA_PREFIX     passed on to install-llama.sh (where the source checkout is)
set -euo pipefail

readonly LLAMA_TAG=v0.5.0
readonly LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6
# The executables built: these tools, or llama-server for the server command.
TARGETS=(llama-batched-bench llama-bench llama-perplexity)
# Bump when the build or the layout this script produces changes: old builds are redone.
readonly SCRIPT_REV=2

prog=${0##*/}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
installer=$script_dir/install-llama.sh

usage() {
	cat <<EOF
Usage: $prog [--openmp|--linked] build [--rebuild] [--print-dir]
       $prog [--openmp|--linked] server [--rebuild] [--print-dir]
       $prog [--openmp|--linked] batched MODEL [options] [-- LLAMA-BATCHED-BENCH-ARGS...]
       $prog [--openmp|--linked] pp MODEL [options] [-- LLAMA-BENCH-ARGS...]
       $prog -h|--help

Builds llama.cpp $LLAMA_TAG's own benchmark tools from the pinned source checkout of
scripts/install-llama.sh and runs them, for side-by-side comparisons with our binding.

build                  build llama-batched-bench, llama-bench and llama-perplexity
                       (static, -march=native; several minutes on 2 cores, then cached);
                       prints the tools directory as the last line on stdout
  --rebuild            build again even if the cached build is current
  --print-dir          print the tools directory and exit (builds nothing)

server                 build llama-server (no web UI), like build but into a directory
                       of its own; prints that directory as the last line on stdout
  --rebuild, --print-dir  as for build

batched MODEL          llama-batched-bench -pps -kvu: results table, then one JSON
                       object per row (the tool's --output-format jsonl fields)
  --threads N          threads for generation and batches (-t N -tb N; default: nproc)
  --npp LIST           prompt lengths, comma-separated (default: 128)
  --ntg LIST           tokens generated per sequence (default: 64)
  --npl LIST           numbers of parallel sequences B (default: 1,16)
  --batch N            logical batch size -b (default: 2048)
  --ubatch N           physical batch size -ub (default: 512)
  --no-pps             decode a separate prompt per sequence (drop -pps)
  --no-kvu             one KV buffer per sequence (drop -kvu)
  --format F           both (default), table or jsonl

pp MODEL               llama-bench prompt processing only (-n 0), JSON on stdout
  --threads N          threads (-t N; default: nproc)
  --n-prompt LIST      prompt lengths (default: 512)
  --batch N            logical batch size -b (default: 512)
  --ubatch N           physical batch size -ub (default: llama-bench's, 512)
  --reps N             repetitions (default: 3)

Common to batched and pp:
  --exact              F32 KV cache and flash attention off (-ctk f32 -ctv f32 -fa off)
  --flash-attn X       on, off or auto (default: llama.cpp's, auto)
  --cache-type-k T     K cache type, e.g. f16, f32, q8_0 (default: llama.cpp's, f16)
  --cache-type-v T     V cache type (default: llama.cpp's, f16)
  --verbose            show the tool's log (model loading etc.) on stderr
  -- ARGS...           pass further arguments to the tool as they are

  --openmp             use/build tools with GGML_OPENMP=ON (default OFF, like the
                       prebuilt libraries our binding loads)
  --linked             use/build tools compiled against install-llama.sh's libraries
                       (the ones our binding loads) instead of a static build

Tools directory: \${LABELFREE_LLAMA_TOOLS_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/labelfree/llama.cpp-$LLAMA_TAG-tools}
(suffix -openmp with --openmp, -linked with --linked); build log: the same path plus .build.log.
llama-server directory: \${LABELFREE_LLAMA_SERVER_DIR:-\${XDG_CACHE_HOME:-\$HOME/.cache}/labelfree/llama.cpp-$LLAMA_TAG-server}
(same suffixes).
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

show_log() {
	[[ -s $1 ]] || return 0
	printf '%s: --- %s (last lines) ---\n' "$prog" "${2:-log}" >&2
	tail -n "${3:-25}" -- "$1" | sed 's/^/  /' >&2
}

find_cc() {
	local c
	for c in ${CC:+"$CC"} cc gcc clang; do
		if have "$c"; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

find_cxx() {
	local c
	for c in ${CXX:+"$CXX"} c++ g++ clang++; do
		if have "$c"; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

# apt_install PACKAGE: as root on Debian/Ubuntu; retries after `apt-get update`.
apt_install() {
	local pkg=$1 log
	log=$(mktemp "${TMPDIR:-/tmp}/labelfree-apt.XXXXXX")
	cleanup_paths+=("$log")
	note "installing $pkg with apt-get"
	if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >"$log" 2>&1; then
		return 0
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 || true
	if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >>"$log" 2>&1; then
		return 0
	fi
	show_log "$log" "apt-get install $pkg" 10
	return 1
}

# require_tool COMMAND PACKAGE WHAT: install PACKAGE when COMMAND is missing and we may.
require_tool() {
	local cmd=$1 pkg=$2 what=$3
	have "$cmd" && return 0
	if [[ $(id -u) == 0 ]] && have apt-get; then
		apt_install "$pkg" && have "$cmd" && return 0
		die "$cmd not found and 'apt-get install -y $pkg' failed; $what"
	fi
	die "$cmd not found: install it (Debian: sudo apt-get install $pkg); $what"
}

is_uint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
is_uint_list() { [[ $1 =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]]; }

# JSON string literal of $1.
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

cache_home=${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
openmp=0
linked=0
cmd=
while (($#)); do
	case $1 in
	--openmp) openmp=1 ;;
	--linked) linked=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	build | server | batched | pp)
		cmd=$1
		shift
		break
		;;
	-*) usage_error "unknown option: $1 (options come after the command)" ;;
	*) usage_error "unknown command: $1" ;;
	esac
	shift
done
[[ -n $cmd ]] || usage_error "missing command: build, server, batched or pp"

rebuild=0
print_dir=0
model=
threads=
npp=128
ntg=64
npl=1,16
n_prompt=512
batch=
ubatch=
reps=3
pps=1
kvu=1
format=both
flash_attn=
type_k=
type_v=
verbose=0
extra=()

# need_value $# "$@": the option in $2 must have a non-empty value in $3.
need_value() {
	(($# >= 3)) || usage_error "$2 needs a value"
	[[ -n $3 ]] || usage_error "$2 needs a value"
}

while (($#)); do
	opt=$1
	case $cmd/$opt in
	*/-h | */--help)
		usage
		exit 0
		;;
	*/--openmp) openmp=1 ;;
	*/--linked) linked=1 ;;
	build/--rebuild | server/--rebuild) rebuild=1 ;;
	build/--print-dir | server/--print-dir) print_dir=1 ;;
	batched/--threads | pp/--threads)
		need_value $# "$@"
		threads=$2
		shift
		;;
	batched/--npp)
		need_value $# "$@"
		npp=$2
		shift
		;;
	batched/--ntg)
		need_value $# "$@"
		ntg=$2
		shift
		;;
	batched/--npl)
		need_value $# "$@"
		npl=$2
		shift
		;;
	pp/--n-prompt)
		need_value $# "$@"
		n_prompt=$2
		shift
		;;
	batched/--batch | pp/--batch)
		need_value $# "$@"
		batch=$2
		shift
		;;
	batched/--ubatch | pp/--ubatch)
		need_value $# "$@"
		ubatch=$2
		shift
		;;
	pp/--reps)
		need_value $# "$@"
		reps=$2
		shift
		;;
	batched/--no-pps) pps=0 ;;
	batched/--no-kvu) kvu=0 ;;
	batched/--format)
		need_value $# "$@"
		format=$2
		shift
		;;
	batched/--exact | pp/--exact)
		flash_attn=off
		type_k=f32
		type_v=f32
		;;
	batched/--flash-attn | pp/--flash-attn)
		need_value $# "$@"
		flash_attn=$2
		shift
		;;
	batched/--cache-type-k | pp/--cache-type-k)
		need_value $# "$@"
		type_k=$2
		shift
		;;
	batched/--cache-type-v | pp/--cache-type-v)
		need_value $# "$@"
		type_v=$2
		shift
		;;
	batched/--verbose | pp/--verbose) verbose=1 ;;
	batched/-- | pp/--)
		shift
		extra=("$@")
		break
		;;
	*/-*) usage_error "unknown option for $cmd: $opt" ;;
	batched/* | pp/*)
		[[ -z $model ]] || usage_error "unexpected argument: $opt (the model is already $model)"
		model=$opt
		;;
	*) usage_error "unexpected argument for $cmd: $opt" ;;
	esac
	shift
done

if [[ $cmd != build && $cmd != server ]]; then
	[[ -n $model ]] || usage_error "$cmd needs a MODEL (a .gguf file)"
	[[ -f $model && -r $model ]] || die "model not found or not readable: $model"
	[[ $model == /* ]] || model=$PWD/$model
	if [[ -z $threads ]]; then
		threads=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 4)
	fi
	is_uint "$threads" || usage_error "--threads must be a positive integer, not '$threads'"
	if [[ -n $flash_attn ]]; then
		case $flash_attn in
		on | off | auto) ;;
		*) usage_error "--flash-attn must be on, off or auto, not '$flash_attn'" ;;
		esac
	fi
	for t in "$type_k" "$type_v"; do
		[[ -z $t || $t =~ ^[a-z0-9_]+$ ]] || usage_error "bad cache type '$t' (e.g. f16, f32, bf16, q8_0)"
	done
	[[ -z $ubatch ]] || is_uint "$ubatch" || usage_error "--ubatch must be a positive integer, not '$ubatch'"
fi
case $cmd in
batched)
	is_uint_list "$npp" || usage_error "--npp must be a comma-separated list of positive integers, not '$npp'"
	is_uint_list "$ntg" || usage_error "--ntg must be a comma-separated list of positive integers, not '$ntg'"
	is_uint_list "$npl" || usage_error "--npl must be a comma-separated list of positive integers, not '$npl'"
	batch=${batch:-2048}
	ubatch=${ubatch:-512}
	is_uint "$batch" || usage_error "--batch must be a positive integer, not '$batch'"
	case $format in
	both | table | jsonl) ;;
	*) usage_error "--format must be both, table or jsonl, not '$format'" ;;
	esac
	;;
pp)
	is_uint_list "$n_prompt" || usage_error "--n-prompt must be a comma-separated list of positive integers, not '$n_prompt'"
	batch=${batch:-512}
	is_uint "$batch" || usage_error "--batch must be a positive integer, not '$batch'"
	is_uint "$reps" || usage_error "--reps must be a positive integer, not '$reps'"
	;;
esac

# ---------------------------------------------------------------------------
# Tools directory and build
# ---------------------------------------------------------------------------
if [[ $cmd == server ]]; then
	TARGETS=(llama-server)
	tools_dir=${LABELFREE_LLAMA_SERVER_DIR:-$cache_home/labelfree/llama.cpp-$LLAMA_TAG-server}
else
	tools_dir=${LABELFREE_LLAMA_TOOLS_DIR:-$cache_home/labelfree/llama.cpp-$LLAMA_TAG-tools}
fi
readonly TARGETS
((!openmp || !linked)) || usage_error "--openmp and --linked exclude each other (--linked uses the installed libraries' threading)"
if ((openmp)); then tools_dir+=-openmp; fi
if ((linked)); then tools_dir+=-linked; fi
[[ $tools_dir == /* ]] || tools_dir=$PWD/$tools_dir
while [[ $tools_dir == */ && $tools_dir != / ]]; do tools_dir=${tools_dir%/}; done
[[ $tools_dir != / ]] || die "refusing to use / as the tools directory"

if [[ $cmd == build || $cmd == server ]] && ((print_dir)); then
	printf '%s\n' "$tools_dir"
	exit 0
fi

stamp_file=$tools_dir/.labelfree-built
owner_file=$tools_dir/.labelfree-owner
# Outside the tools directory: it is written while building and kept when a build fails.
build_log=$tools_dir.build.log

tools_present() {
	local t
	for t in "${TARGETS[@]}"; do
		[[ -x $tools_dir/$t ]] || return 1
	done
}

# The source checkout of install-llama.sh, verified. Sets SRC.
SRC=
locate_source() {
	local prefix src head stamp_commit
	[[ -x $installer ]] || die "$installer not found or not executable"
	prefix=$("$installer" --print-prefix) || die "'$installer --print-prefix' failed"
	src=$prefix/src
	if [[ ! -f $prefix/.labelfree-installed || ! -f $src/CMakeLists.txt ]]; then
		note "no llama.cpp source checkout in $src yet; running install-llama.sh"
		# Its own prefix, never a system llama.cpp (that has no source checkout).
		LABELFREE_LLAMA_SYSTEM=0 "$installer" >&2 || die "install-llama.sh failed (see above)"
		[[ -f $src/CMakeLists.txt ]] || die "install-llama.sh did not leave a source checkout in $src"
	fi
	stamp_commit=$(sed -n 's/^commit=//p' "$prefix/.labelfree-installed" 2>/dev/null || true)
	if [[ -n $stamp_commit && $stamp_commit != "$LLAMA_COMMIT" ]]; then
		die "install-llama.sh now pins llama.cpp commit $stamp_commit but $prog pins $LLAMA_COMMIT ($LLAMA_TAG); update LLAMA_TAG/LLAMA_COMMIT in $prog (and check the tools' flags)"
	fi
	have git || die "git not found: install it (Debian: apt-get install git); it checks the llama.cpp checkout"
	head=$(git -C "$src" rev-parse HEAD 2>/dev/null) || die "$src is not a git checkout; remove $prefix and run $installer again"
	[[ $head == "$LLAMA_COMMIT" ]] ||
		die "$src is at commit $head, expected $LLAMA_COMMIT ($LLAMA_TAG); remove $prefix and run $installer again"
	if [[ -n $(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		die "$src has local changes to tracked files; the benchmarks need the pristine $LLAMA_TAG source (remove $prefix and run $installer again)"
	fi
	SRC=$src
}

# Identifies the machine's CPU for a -march=native build.
cpu_id() {
	local model flags
	if [[ -r /proc/cpuinfo ]]; then
		model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
		flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1 | tr ' ' '\n' | sort | tr '\n' ' ' | cksum)
		printf '%s; flags %s\n' "${model:-unknown}" "${flags%% *}"
	else
		printf '%s\n' "$(uname -m) (no /proc/cpuinfo)"
	fi
}

CC_PATH=
CXX_PATH=
cmake_args=()
expected_stamp=
compute_expected_stamp() {
	local cxx_version omp=OFF
	if ((openmp)); then omp=ON; fi
	CC_PATH=$(find_cc) || CC_PATH=
	CXX_PATH=$(find_cxx) || CXX_PATH=
	cxx_version=unknown
	if [[ -n $CXX_PATH ]]; then
		cxx_version=$("$CXX_PATH" --version 2>/dev/null | head -n 1) || cxx_version=unknown
	fi
	cmake_args=(
		-DCMAKE_BUILD_TYPE=Release
		-DBUILD_SHARED_LIBS=OFF
		-DGGML_NATIVE=ON
		-DGGML_BACKEND_DL=OFF
		-DGGML_OPENMP="$omp"
		-DLLAMA_BUILD_COMMON=ON
		-DLLAMA_BUILD_TOOLS=ON
		-DLLAMA_BUILD_TESTS=OFF
		-DLLAMA_BUILD_EXAMPLES=OFF
		-DLLAMA_BUILD_SERVER=OFF
		-DLLAMA_BUILD_APP=OFF
		-DLLAMA_OPENSSL=OFF
		-DLLAMA_TOOLS_INSTALL=OFF
	)
	if [[ ${TARGETS[*]} == llama-server ]]; then
		# The server, without its web UI (whose assets would be downloaded).
		cmake_args=("${cmake_args[@]/-DLLAMA_BUILD_SERVER=OFF/-DLLAMA_BUILD_SERVER=ON}"
			-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)
	fi
	if ((linked)); then
		local prefix
		prefix=$("$installer" --print-prefix) || die "'$installer --print-prefix' failed"
		cmake_args=("linked against $prefix/lib: $(cat "$prefix/.labelfree-installed" 2>/dev/null | cksum)")
	fi
	expected_stamp="llama.cpp=$LLAMA_TAG
commit=$LLAMA_COMMIT
targets=${TARGETS[*]}
cmake-args=${cmake_args[*]}
cxx=$cxx_version
cpu=$(cpu_id)
dir=$tools_dir
script-rev=$SCRIPT_REV"
}

is_built() {
	[[ -f $stamp_file && $(<"$stamp_file") == "$expected_stamp" ]] && tools_present
}

# cmake_sources FILE NAME: the .cpp files of the add_library(NAME …) or
# add_executable(NAME …) call in the CMakeLists.txt FILE, relative to its directory
# (NAME may be given there as ${TARGET} after set(TARGET NAME)).
cmake_sources() {
	awk -v name="$2" '
		match($0, /^[[:space:]]*set[(]TARGET[[:space:]]+[^[:space:])]+/) {
			t = substr($0, RSTART, RLENGTH)
			sub(/^[[:space:]]*set[(]TARGET[[:space:]]+/, "", t)
		}
		!on && match($0, /^[[:space:]]*add_(library|executable)[(][^[:space:])]+/) {
			n = substr($0, RSTART, RLENGTH)
			sub(/^[[:space:]]*add_(library|executable)[(]/, "", n)
			if (n == "${TARGET}") n = t
			if (n == name) on = 1
		}
		on {
			for (i = 1; i <= NF; i++) {
				w = $i
				gsub(/[()]/, "", w)
				if (w ~ /\.cpp$/) print w
			}
			if ($0 ~ /[)]/) on = 0
		}
	' "$1"
}

# build_server_linked PREFIX TMP OUT: compiles llama-server against the libraries in
# PREFIX/lib, in TMP, into OUT, with LABELFREE_JOBS parallel compilations (make).
build_server_linked() {
	local prefix=$1 tmp=$2 out=$3 jobs gen mk f o i subproc defs flags cc
	local -a srcs=() objs=()
	[[ -f $prefix/lib/libllama-common.so ]] ||
		die "$prefix/lib has no libllama-common.so (an install-llama.sh --from-source prefix?): build llama-server without --linked"
	[[ $SRC != *[[:space:]]* && $tmp != *[[:space:]]* ]] || die "--linked server: paths with spaces are not supported ($SRC, $tmp)"
	require_tool make make "it runs the compilations"
	cc=$CC_PATH
	[[ -n $cc ]] || cc="$CXX_PATH -x c"
	jobs=${LABELFREE_JOBS:-}
	if [[ -z $jobs ]]; then
		jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
	fi
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "LABELFREE_JOBS must be a positive integer, not '$jobs'"

	# ui.h / ui.cpp as scripts/ui-assets.cmake writes them when it has no assets.
	gen=$tmp/gen
	mkdir -p -- "$gen" "$tmp/obj"
	sed -e 's|^#cmakedefine LLAMA_UI_HAS_ASSETS.*$|/* #undef LLAMA_UI_HAS_ASSETS */|' -e 's|@N_ASSETS@|0|g' \
		"$SRC/tools/ui/ui.h.in" >"$gen/ui.h"
	sed -e 's|@ASSET_ARRAYS@||' -e 's|@ASSET_TABLE@||' -e 's|@N_ASSETS@|0|g' -e 's|@USE_GZIP@|false|' \
		"$SRC/tools/ui/ui.cpp.in" >"$gen/ui.cpp"
	if grep -q '@[A-Z_]*@\|#cmakedefine' "$gen/ui.h" "$gen/ui.cpp"; then
		die "tools/ui/ui.h.in or ui.cpp.in has placeholders this script does not know; update build_server_linked"
	fi

	# common_subproc's layout depends on LLAMA_SUBPROCESS: ask the library.
	printf '#include "subproc.h"\nint main() { return common_subproc::is_supported() ? 0 : 3; }\n' >"$tmp/probe.cpp"
	"$CXX_PATH" -std=c++17 -I"$SRC/common" "$tmp/probe.cpp" -o "$tmp/probe" \
		-L"$prefix/lib" -lllama-common -lllama -lggml -lggml-base -Wl,-rpath,"$prefix/lib" >>"$build_log" 2>&1 ||
		die "compiling the LLAMA_SUBPROCESS probe against $prefix/lib failed (full log: $build_log)"
	subproc=0
	"$tmp/probe" || subproc=$?
	case $subproc in
	0) defs="-DLLAMA_SUBPROCESS -DMTMD_VIDEO" ;; # as CMake: MTMD_VIDEO needs LLAMA_SUBPROCESS
	3) defs= ;;
	*) die "the LLAMA_SUBPROCESS probe failed (exit status $subproc)" ;;
	esac
	printf '# libllama-common LLAMA_SUBPROCESS: %s\n' "$([[ -n $defs ]] && echo on || echo off)" >>"$build_log"

	for f in $(cmake_sources "$SRC/tools/server/CMakeLists.txt" server-context) \
		$(cmake_sources "$SRC/tools/server/CMakeLists.txt" llama-server-impl) \
		$(cmake_sources "$SRC/tools/server/CMakeLists.txt" llama-server); do
		srcs+=("$SRC/tools/server/$f")
	done
	for f in $(cmake_sources "$SRC/tools/mtmd/CMakeLists.txt" mtmd); do
		srcs+=("$SRC/tools/mtmd/$f")
	done
	srcs+=("$SRC/vendor/hash/hash.cpp" "$gen/ui.cpp")
	((${#srcs[@]} > 20)) || die "found only ${#srcs[@]} sources in tools/server and tools/mtmd; update build_server_linked"

	flags="-O2 -std=c++17 -pthread -w $defs -I$gen -I$SRC/tools/server -I$SRC/tools/mtmd -I$SRC -I$SRC/common -I$prefix/include -I$SRC/vendor -I$SRC/vendor/hash"
	mk=$tmp/Makefile
	{
		printf 'all: %s\n' "$out"
		i=0
		for f in "${srcs[@]}"; do
			[[ -f $f ]] || die "source $f not found"
			o=$tmp/obj/$i-$(basename -- "${f%.*}").o
			objs+=("$o")
			printf '%s: %s\n\t%s %s -c $< -o $@\n' "$o" "$f" "$CXX_PATH" "$flags"
			i=$((i + 1))
		done
		# vendor/hash's C sources (sha1.c is compiled as C++, as its CMake says).
		o=$tmp/obj/xxhash.o
		objs+=("$o")
		printf '%s: %s\n\t%s -O2 -w -c $< -o $@\n' "$o" "$SRC/vendor/hash/xxhash/xxhash.c" "$cc"
		o=$tmp/obj/sha256.o
		objs+=("$o")
		printf '%s: %s\n\t%s -O2 -w -I%s -c $< -o $@\n' "$o" "$SRC/vendor/hash/sha256/sha256.c" "$cc" "$SRC/vendor/hash"
		o=$tmp/obj/sha1.o
		objs+=("$o")
		printf '%s: %s\n\t%s -O2 -w -x c++ -c $< -o $@\n' "$o" "$SRC/vendor/hash/sha1/sha1.c" "$CXX_PATH"
		printf '%s: %s\n\t%s -pthread $^ -o $@ -L%s -lllama-common -lllama -lggml -lggml-base -Wl,-rpath,%s\n' \
			"$out" "${objs[*]}" "$CXX_PATH" "$prefix/lib" "$prefix/lib"
	} >"$mk"
	printf '# llama-server: %d sources, make -j%s -f %s\n' "${#srcs[@]}" "$jobs" "$mk" >>"$build_log"
	make -j "$jobs" -f "$mk" >>"$build_log" 2>&1 || {
		show_log "$build_log" "build log" 30
		die "compiling llama-server against $prefix/lib failed (full log: $build_log)"
	}
}

# build_linked: compiles the tools' sources against the installed libraries
# (--linked); called by ensure_built with the lock held and SRC set.
build_linked() {
	local prefix tmp stage t dir lib old start secs
	prefix=${SRC%/src}
	tmp=$(mktemp -d "$parent/.$base.tmp.XXXXXX")
	cleanup_paths+=("$tmp")
	stage=$tmp/stage
	mkdir -p -- "$stage"
	printf 'created by %s (labelfree); may be deleted and re-created by it\n' "$prog" >"$stage/.labelfree-owner"
	note "compiling ${TARGETS[*]} against $prefix/lib (log: $build_log)"
	start=$SECONDS
	printf '# %s --linked build, %s\n' "$prog" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" >"$build_log"
	for t in "${TARGETS[@]}"; do
		if [[ $t == llama-server ]]; then
			build_server_linked "$prefix" "$tmp" "$stage/$t"
			continue
		fi
		case $t in
		llama-batched-bench) dir=batched-bench ;;
		llama-bench) dir=llama-bench ;;
		llama-perplexity) dir=perplexity ;;
		*) die "no source directory known for $t" ;;
		esac
		printf '# %s\n' "$t" >>"$build_log"
		"$CXX_PATH" -O2 -std=c++17 -pthread -I"$SRC/common" -I"$prefix/include" -I"$SRC/vendor" \
			"$SRC/tools/$dir/"*.cpp -o "$stage/$t" \
			-L"$prefix/lib" -lllama-common -lllama -lggml -lggml-base -Wl,-rpath,"$prefix/lib" \
			>>"$build_log" 2>&1 || {
			show_log "$build_log" "build log" 30
			die "compiling $t against $prefix/lib failed (full log: $build_log)"
		}
	done
	# ggml loads its backends (libggml-cpu-<arch>.so, CUDA…) from the
	# executable's directory.
	for lib in "$prefix/lib"/libggml-*.so; do
		case ${lib##*/} in
		libggml-base.so) ;;
		*) ln -s -- "$lib" "$stage/${lib##*/}" ;;
		esac
	done
	for t in "${TARGETS[@]}"; do
		if ! "$stage/$t" --version >"$tmp/$t.version" 2>&1; then
			cat "$tmp/$t.version" >>"$build_log"
			show_log "$build_log" "build log" 30
			die "$t --version failed after the build (full log: $build_log)"
		fi
	done
	secs=$((SECONDS - start))
	{
		printf 'llama.cpp %s (commit %s) tools compiled by %s from %s against %s/lib\n' "$LLAMA_TAG" "$LLAMA_COMMIT" "$prog" "$SRC" "$prefix"
		printf 'date: %s; build time: %ss\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$secs"
		printf 'cxx: %s (%s), flags: -O2 -std=c++17\n' "$CXX_PATH" "$("$CXX_PATH" --version | head -n 1)"
		printf 'cpu: %s\n' "$(cpu_id)"
	} >"$stage/BUILD-INFO"
	cp -- "$build_log" "$stage/build.log"
	old=$tmp/old
	if [[ -e $tools_dir ]]; then
		mv -- "$tools_dir" "$old"
	fi
	mv -- "$stage" "$tools_dir"
	printf '%s\n' "$expected_stamp" >"$tools_dir/.labelfree-built.tmp"
	mv -f -- "$tools_dir/.labelfree-built.tmp" "$stamp_file"
	rm -rf -- "$tmp"
	if have flock; then exec 9>&-; fi
	note "compiled ${TARGETS[*]} in ${secs}s into $tools_dir"
}

# ensure_built: builds the tools unless the stamp matches.
ensure_built() {
	local parent base jobs tmp stage bld t d old start secs
	compute_expected_stamp
	if ((!rebuild)) && is_built; then
		return 0
	fi

	parent=${tools_dir%/*}
	[[ -n $parent ]] || parent=/
	base=${tools_dir##*/}
	mkdir -p -- "$parent" || die "cannot create $parent"
	[[ -w $parent ]] || die "$parent is not writable"

	# One build per tools directory at a time.
	if have flock; then
		exec 9>"$parent/.$base.lock"
		if ! flock -n 9; then
			note "waiting for another build into $tools_dir"
			flock 9
		fi
		if ((!rebuild)) && is_built; then
			exec 9>&-
			return 0
		fi
		for d in "$parent/.$base.tmp."*; do
			[[ -d $d ]] && rm -rf -- "$d"
		done
	fi

	# Refuse to replace a directory this script did not create.
	if [[ -e $tools_dir || -L $tools_dir ]]; then
		if [[ ! -d $tools_dir || -L $tools_dir ]]; then
			die "$tools_dir exists and is not a directory; remove it or set LABELFREE_LLAMA_TOOLS_DIR"
		fi
		if [[ ! -e $owner_file && ! -e $stamp_file ]] && [[ -n $(ls -A -- "$tools_dir") ]]; then
			die "$tools_dir exists and was not created by $prog; remove it or set LABELFREE_LLAMA_TOOLS_DIR"
		fi
	fi

	locate_source
	if ((linked)); then
		if [[ -z $CXX_PATH ]]; then
			require_tool g++ g++ "a C++ compiler builds llama.cpp's tools"
		fi
		compute_expected_stamp
		build_linked
		return 0
	fi
	require_tool cmake cmake "it builds llama.cpp's tools"
	if [[ -z $CXX_PATH ]]; then
		require_tool g++ g++ "a C++ compiler builds llama.cpp's tools"
	fi
	if [[ -z $CC_PATH ]]; then
		require_tool gcc gcc "a C compiler builds llama.cpp's tools"
	fi
	require_tool make make "CMake's Makefile generator needs it"
	# The compiler may just have been installed: the stamp names it.
	compute_expected_stamp

	jobs=${LABELFREE_JOBS:-}
	if [[ -z $jobs ]]; then
		jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
	fi
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "LABELFREE_JOBS must be a positive integer, not '$jobs'"

	tmp=$(mktemp -d "$parent/.$base.tmp.XXXXXX")
	cleanup_paths+=("$tmp")
	stage=$tmp/stage
	bld=$tmp/build
	mkdir -p -- "$stage" "${build_log%/*}"
	printf 'created by %s (labelfree); may be deleted and re-created by it\n' "$prog" >"$stage/.labelfree-owner"

	build_failed() {
		show_log "$build_log" "build log" 30
		die "$1 (full log: $build_log)"
	}
	note "building ${TARGETS[*]} from llama.cpp $LLAMA_TAG ($SRC) with $jobs jobs; takes several minutes (log: $build_log)"
	start=$SECONDS
	{
		printf '# %s build, %s\n' "$prog" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
		printf '# cmake -S %s -B %s %s\n' "$SRC" "$bld" "${cmake_args[*]}"
	} >"$build_log"
	cmake -S "$SRC" -B "$bld" "${cmake_args[@]}" \
		-DCMAKE_C_COMPILER="$CC_PATH" -DCMAKE_CXX_COMPILER="$CXX_PATH" \
		>>"$build_log" 2>&1 || build_failed "cmake configure failed"
	cmake --build "$bld" --config Release -j "$jobs" --target "${TARGETS[@]}" \
		>>"$build_log" 2>&1 || build_failed "cmake build failed"
	secs=$((SECONDS - start))

	for t in "${TARGETS[@]}"; do
		[[ -x $bld/bin/$t ]] || build_failed "the build did not produce bin/$t"
		cp -- "$bld/bin/$t" "$stage/$t"
		# Smoke test: starts, links, prints its version.
		if ! "$stage/$t" --version >"$tmp/$t.version" 2>&1; then
			cat "$tmp/$t.version" >>"$build_log"
			build_failed "$t --version failed after the build"
		fi
	done
	{
		printf 'llama.cpp %s (commit %s), built by %s from %s\n' "$LLAMA_TAG" "$LLAMA_COMMIT" "$prog" "$SRC"
		printf 'date: %s; build time: %ss with %s jobs\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$secs" "$jobs"
		printf 'cmake: %s\n' "$(cmake --version | head -n 1)"
		printf 'cc: %s\ncxx: %s (%s)\n' "$CC_PATH" "$CXX_PATH" "$("$CXX_PATH" --version | head -n 1)"
		printf 'cmake arguments: %s\n' "${cmake_args[*]}"
		printf 'cpu: %s\n' "$(cpu_id)"
		printf -- '-march=native is: %s\n' "$("$CC_PATH" -march=native -Q --help=target 2>/dev/null | awk '$1 == "-march=" { print $2; exit }' || true)"
		printf '%s --version:\n' "${TARGETS[0]}"
		sed 's/^/  /' "$tmp/${TARGETS[0]}.version"
		printf 'CMake cache:\n'
		grep -E '^(CMAKE_C_FLAGS_RELEASE|GGML_NATIVE|GGML_OPENMP|GGML_LLAMAFILE|GGML_CPU_REPACK|GGML_BACKEND_DL):' "$bld/CMakeCache.txt" | sed 's/^/  /' || true
	} >"$stage/BUILD-INFO"
	cp -- "$build_log" "$stage/build.log"

	# Move into place; the stamp comes last.
	old=$tmp/old
	if [[ -e $tools_dir ]]; then
		mv -- "$tools_dir" "$old"
	fi
	mv -- "$stage" "$tools_dir"
	printf '%s\n' "$expected_stamp" >"$tools_dir/.labelfree-built.tmp"
	mv -f -- "$tools_dir/.labelfree-built.tmp" "$stamp_file"
	rm -rf -- "$tmp"
	if have flock; then exec 9>&-; fi
	note "built ${TARGETS[*]} in ${secs}s into $tools_dir"
}

if [[ $cmd == build || $cmd == server ]]; then
	ensure_built
	if ((!rebuild)); then note "llama.cpp $LLAMA_TAG ${TARGETS[*]} built in $tools_dir"; fi
	printf '%s\n' "$tools_dir"
	exit 0
fi

ensure_built

# The command line as one shell-quoted string (plain words stay as they are).
quote_cmd() {
	local a out=
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
			out+=" $a"
		else
			out+=" $(printf '%q' "$a")"
		fi
	done
	printf '%s\n' "${out# }"
}

# run_tool LOG CMD...: runs the tool; its stderr goes to LOG (and to ours with --verbose).
run_tool() {
	local log=$1 rc=0
	shift
	note "running: $(quote_cmd "$@")"
	if ((verbose)); then
		"$@" 2> >(tee "$log" >&2) || rc=$?
	else
		"$@" 2>"$log" || rc=$?
	fi
	if ((rc != 0)); then
		show_log "$log" "${1##*/} log" 30
		die "${1##*/} failed (exit status $rc)"
	fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/labelfree-llamacpp-bench.XXXXXX")
cleanup_paths+=("$work")

# ---------------------------------------------------------------------------
# batched
# ---------------------------------------------------------------------------
if [[ $cmd == batched ]]; then
	IFS=, read -r -a pp_list <<<"$npp"
	IFS=, read -r -a tg_list <<<"$ntg"
	IFS=, read -r -a pl_list <<<"$npl"
	# The tool's own requirement per row (tools/batched-bench/batched-bench.cpp):
	# n_ctx_req = pps ? (kvu ? pp : pl*pp) + pl*tg : pl*(pp + tg); rows with
	# n_ctx_req > n_ctx are skipped. Without -kvu each sequence gets n_ctx/n_seq_max.
	n_ctx=0
	max_pl=0
	for pl in "${pl_list[@]}"; do
		if ((pl > max_pl)); then max_pl=$pl; fi
	done
	for pp in "${pp_list[@]}"; do
		for tg in "${tg_list[@]}"; do
			for pl in "${pl_list[@]}"; do
				if ((pps && kvu)); then
					req=$((pp + pl * tg))
				elif ((pps)); then
					req=$((pl * pp + pl * tg))
				else
					req=$((pl * (pp + tg)))
				fi
				# Without -kvu every one of the n_seq_max = max(B) sequences gets
				# n_ctx / n_seq_max cells and must hold pp + tg of them.
				if ((!kvu && req < max_pl * (pp + tg))); then
					req=$((max_pl * (pp + tg)))
				fi
				if ((req > n_ctx)); then
					n_ctx=$req
				fi
			done
		done
	done
	n_rows=$((${#pp_list[@]} * ${#tg_list[@]} * ${#pl_list[@]}))

	args=(
		"$tools_dir/llama-batched-bench"
		-m "$model" -c "$n_ctx" -b "$batch" -ub "$ubatch"
		-npp "$npp" -ntg "$ntg" -npl "$npl"
		-t "$threads" -tb "$threads"
	)
	if ((pps)); then args+=(-pps); fi
	if ((kvu)); then args+=(-kvu); else args+=(-no-kvu); fi
	[[ -z $flash_attn ]] || args+=(-fa "$flash_attn")
	[[ -z $type_k ]] || args+=(-ctk "$type_k")
	[[ -z $type_v ]] || args+=(-ctv "$type_v")
	# -lv 4: llama.cpp's info lines (context set-up, what flash attention "auto"
	# resolved to) go to the log; they are printed only while loading.
	args+=(--output-format jsonl -lv 4)
	args+=("${extra[@]+"${extra[@]}"}")

	run_tool "$work/tool.log" "${args[@]}" >"$work/tool.out"
	grep '^{' "$work/tool.out" >"$work/rows.jsonl" || true
	got=$(wc -l <"$work/rows.jsonl")
	((got > 0)) || {
		show_log "$work/tool.out" "llama-batched-bench output" 20
		show_log "$work/tool.log" "llama-batched-bench log" 20
		die "llama-batched-bench printed no result rows"
	}
	if ((got != n_rows)); then
		note "warning: llama-batched-bench printed $got of $n_rows rows (it skips combinations that do not fit in its context of $n_ctx tokens)"
	fi

	# What flash attention was in the end (auto is resolved when the context is made).
	fa_used=$(sed -n -e 's/.*resolve_fused_ops: Flash Attention \([a-z]*\).*/\1/p' \
		-e 's/.*llama_context: flash_attn *= *\(enabled\|disabled\).*/\1/p' "$work/tool.log" | tail -n 1)
	fa_used=${fa_used:-unknown}

	# Fields added to each row (the tool's own fields come first, unchanged).
	added=", \"tool\": \"llama-batched-bench\", \"llama_cpp\": \"$LLAMA_TAG\", \"commit\": \"$LLAMA_COMMIT\""
	added+=", \"model\": $(json_str "$model"), \"kv_unified\": $kvu, \"flash_attn_used\": $(json_str "$fa_used")"
	added+=", \"type_k\": $(json_str "${type_k:-f16}"), \"type_v\": $(json_str "${type_v:-f16}")"
	if ((${#extra[@]})); then
		added+=", \"extra_args\": $(json_str "${extra[*]}")"
	fi

	if [[ $format != jsonl ]]; then
		# Same header, columns and formats as the tool's markdown output.
		awk -v tk="${type_k:-f16}" -v tv="${type_v:-f16}" -v kvu="$kvu" -v fa="$fa_used" '
			function num(key,   m) {
				if (match($0, "\"" key "\": *-?[0-9.]+")) {
					m = substr($0, RSTART, RLENGTH)
					sub(/^[^:]*: */, "", m)
					return m + 0
				}
				return "?"
			}
			NR == 1 {
				printf "llama-batched-bench: n_kv_max = %d, n_batch = %d, n_ubatch = %d, flash_attn = %d (%s), is_pp_shared = %d, n_gpu_layers = %d, n_threads = %d, n_threads_batch = %d, kv_unified = %d, type_k = %s, type_v = %s\n\n", \
					num("n_kv_max"), num("n_batch"), num("n_ubatch"), num("flash_attn"), fa, num("is_pp_shared"), num("n_gpu_layers"), num("n_threads"), num("n_threads_batch"), kvu, tk, tv
				printf "|%6s | %6s | %4s | %6s | %8s | %8s | %8s | %8s | %8s | %8s |\n", "PP", "TG", "B", "N_KV", "T_PP s", "S_PP t/s", "T_TG s", "S_TG t/s", "T s", "S t/s"
				printf "|%6s-|-%6s-|-%4s-|-%6s-|-%8s-|-%8s-|-%8s-|-%8s-|-%8s-|-%8s-|\n", "------", "------", "----", "------", "--------", "--------", "--------", "--------", "--------", "--------"
			}
			{
				printf "|%6d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n", \
					num("pp"), num("tg"), num("pl"), num("n_kv"), num("t_pp"), num("speed_pp"), num("t_tg"), num("speed_tg"), num("t"), num("speed")
			}
		' "$work/rows.jsonl"
	fi
	if [[ $format == both ]]; then
		echo
	fi
	if [[ $format != table ]]; then
		while IFS= read -r row; do
			printf '%s%s}\n' "${row%\}}" "$added"
		done <"$work/rows.jsonl"
	fi
	exit 0
fi

# ---------------------------------------------------------------------------
# pp
# ---------------------------------------------------------------------------
args=(
	"$tools_dir/llama-bench"
	-m "$model" -p "$n_prompt" -n 0 -b "$batch"
	-t "$threads" -r "$reps" -o json
)
[[ -z $ubatch ]] || args+=(-ub "$ubatch")
[[ -z $flash_attn ]] || args+=(-fa "$flash_attn")
[[ -z $type_k ]] || args+=(-ctk "$type_k")
[[ -z $type_v ]] || args+=(-ctv "$type_v")
if ((verbose)); then args+=(-v); fi
args+=("${extra[@]+"${extra[@]}"}")

run_tool "$work/tool.log" "${args[@]}" >"$work/tool.out"
grep -q '"avg_ts"' "$work/tool.out" || {
	show_log "$work/tool.out" "llama-bench output" 20
	show_log "$work/tool.log" "llama-bench log" 20
	die "llama-bench printed no results"
}
cat -- "$work/tool.out"
# Summary on stderr: one line per test.
awk '
	function val(   v) { v = $0; sub(/^[^:]*: */, "", v); sub(/,[[:space:]]*$/, "", v); gsub(/"/, "", v); return v }
	/"n_prompt":/ { np = val() }
	/"n_gen":/ { ng = val() }
	/"n_threads":/ { nt = val() }
	/"avg_ts":/ { avg = val() }
	/"stddev_ts":/ {
		sd = val()
		printf "pp%s%s: %.2f ± %.2f t/s (threads %s)\n", np, (ng > 0 ? " tg" ng : ""), avg, sd, nt
	}
' "$work/tool.out" | sed "s/^/$prog: /" >&2
