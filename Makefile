# pagetrace build. "make V=1" shows the commands.
#
#   make            build ./pagetrace
#   make test       build, then run unit and integration tests (as root)
#   make demo       pagetrace on the bundled demo
#   make deps       install the Debian packages the build and tests need
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel

OUTPUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := x86

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror
USER_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) \
	-I$(OUTPUT) -Ibpf -Iuser
# BPF_PROG() wrappers pass every tracepoint argument, used or not
# -mcpu=v3: atomic or and exchange (--light's granules), Linux 5.12+
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(WARNINGS) \
	-Wno-unused-parameter -Ivmlinux -Ibpf
LDLIBS := -lbpf -ldw -lelf -lz

# build: clang, bpftool, libbpf, libelf, libdw, zlib, gcc; tests: jq, the static
# libc (a statically linked target), setpriv and setarch, strace (another
# tracer), numpy (numpy's story)
DEBIAN_PACKAGES := clang libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev gcc make \
	libc6-dev jq util-linux strace python3-numpy
# benchmarks compare with other tools and run real programs
BENCH_PACKAGES := linux-perf bpftrace sqlite3 gnuplot-nox

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
LIB := $(OUTPUT)/libpagetrace.a

TARGET_SRCS := $(wildcard tests/targets/*.c)
TARGETS := $(patsubst tests/targets/%.c,$(OUTPUT)/tests/%,$(TARGET_SRCS)) \
	$(OUTPUT)/tests/liballoc.so
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNITS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCHES := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
WORKLOAD_SRCS := $(wildcard bench/workloads/*.c)
WORKLOADS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(WORKLOAD_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# keep the BPF objects and skeletons between builds
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all test unit integration demo deps bench-deps vmlinux clean format programs bench

PRELOAD := $(OUTPUT)/pagetrace-preload.so

all: pagetrace $(PRELOAD)

pagetrace: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/unit $(OUTPUT)/bench \
$(OUTPUT)/bench/workloads:
	$(Q)mkdir -p $@

# preloaded into the commands pagetrace starts (user/preload/): a 5-byte
# nop at each allocator function. Optimised whatever CFLAGS say: a first
# call must leave through a tail jump, or the library would be its caller
$(PRELOAD): user/preload/pagetrace-preload.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -g $(CFLAGS) -O2 \
		-foptimize-sibling-calls -fno-builtin -fPIC -shared $< -o $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

# every user object may include a skeleton: build them first
$(OUTPUT)/user/%.o: user/%.c $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# test programs with known memory behaviour: no builtin may remove or
# merge an allocation, frame pointers for the stacks
TARGET_CFLAGS := -O1 -fno-builtin
$(OUTPUT)/tests/static_target: TARGET_LDFLAGS := -static
$(OUTPUT)/tests/own_malloc: TARGET_LDFLAGS := -rdynamic
# the demo needs the compiler's malloc + memset(0) -> calloc
$(OUTPUT)/tests/demo: TARGET_CFLAGS := -O2

# exact touching stacks need the frame pointer in leaf functions too
$(OUTPUT)/tests/stacks: TARGET_FP := -fno-omit-frame-pointer \
	-mno-omit-leaf-frame-pointer
# no frame pointer, no symbol table: only .dynsym names the functions
$(OUTPUT)/tests/stripped: TARGET_FP := -fomit-frame-pointer
$(OUTPUT)/tests/stripped: TARGET_LDFLAGS := -rdynamic
$(OUTPUT)/tests/stripped: TARGET_POST = && strip --strip-all $@
# call frame information in .debug_frame alone
$(OUTPUT)/tests/debug_frame_only: TARGET_FP := -fomit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
# a sanitizer's runtime first among the libraries
$(OUTPUT)/tests/sanitized: TARGET_CFLAGS := -O1 -fsanitize=address
$(OUTPUT)/tests/sanitized: TARGET_LDFLAGS := -fsanitize=address
# no frame pointer, and rbp holding data
$(OUTPUT)/tests/no_frame_chain: TARGET_FP := -fomit-frame-pointer
TARGET_FP ?= -fno-omit-frame-pointer

$(OUTPUT)/tests/%: tests/targets/%.c tests/targets/target.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(TARGET_CFLAGS) -g \
		$(TARGET_FP) -pthread $< $(TARGET_LDFLAGS) -o $@ $(TARGET_POST)

$(OUTPUT)/tests/lib%.so: tests/targets/lib/lib%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(WARNINGS) $(TARGET_CFLAGS) -g $(TARGET_FP) \
		-fPIC -shared $< -o $@

$(OUTPUT)/unit/%: tests/unit/%.c $(LIB) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/unit -MMD -MP $< $(LIB) $(LDLIBS) -o $@

# workloads: plain programs, optimised, nothing of pagetrace's in them;
# no builtins, or the compiler would drop the malloc/free pairs
$(OUTPUT)/bench/workloads/%: bench/workloads/%.c bench/workloads/workload.h | \
		$(OUTPUT)/bench/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O2 -fno-builtin -g -pthread $< -o $@

$(OUTPUT)/bench/%: bench/%.c $(LIB) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -pthread -MMD -MP $< $(LIB) $(LDLIBS) -o $@

unit: $(UNITS)
integration: pagetrace $(PRELOAD) $(TARGETS)
# drain_speed and hook_floor too: tests check what they attach and count
programs: pagetrace $(PRELOAD) $(TARGETS) $(UNITS) \
	$(OUTPUT)/bench/drain_speed $(OUTPUT)/bench/hook_floor

# test and demo first install what is missing, then build, then run:
# on a fresh Debian machine "sudo make test" is the whole set-up
test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)bash tests/run.sh

demo:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory pagetrace $(PRELOAD) $(OUTPUT)/tests/demo
	$(Q)bash tests/demo.sh

# benchmarks are not tests: they measure, print tables, assert nothing
bench:
	$(Q)$(MAKE) --no-print-directory bench-deps
	$(Q)$(MAKE) --no-print-directory pagetrace $(PRELOAD) $(BENCHES) $(WORKLOADS)
	$(Q)bash bench/run.sh

deps: PACKAGES = $(DEBIAN_PACKAGES)
bench-deps: PACKAGES = $(DEBIAN_PACKAGES) $(BENCH_PACKAGES)
deps bench-deps:
	@missing=""; for p in $(PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "missing Debian packages:$$missing; run 'sudo make deps'" >&2; \
			exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends $$missing; \
	fi

vmlinux:
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q)mkdir -p vmlinux
	$(Q)printf '/* generated by "make vmlinux" from the BTF of Linux %s */\n' \
		"$$(uname -r)" > vmlinux/vmlinux.h.tmp
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c \
		>> vmlinux/vmlinux.h.tmp
	$(Q)mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h user/preload/*.c \
		tests/unit/*.c tests/unit/*.h tests/targets/*.c tests/targets/lib/*.c \
		bench/*.c bench/*.h bench/workloads/*.c bench/workloads/*.h

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) pagetrace

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/unit/*.d \
	$(OUTPUT)/bench/*.d)
