# agentsh — one build for everything.  `make`, `make test`, `make run`, `make bench`.
#
# Every module is a top-level directory with one public header (<module>/<module>.h);
# its .c files are archived into build/lib<module>.a.  Files are picked up by
# wildcard, so adding a source or a test needs no edit here.
#
#   make            build build/agentsh
#   make test       install deps, build, run every test (normal + ASan/UBSan build)
#   make run        install deps, build, start an interactive agentsh here
#   make bench      benchmarks (ratios against sh -c / bash -c)
#   make fuzz       build the libFuzzer targets (build-fuzz/)
#   make SAN=1      sanitizer build into build-san/

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX  ?= /usr/local

ifeq ($(SAN),1)
B        ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(FUZZ),1)
B        ?= build-fuzz
CC       := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DAGENTSH_FUZZ
else
B        ?= build
SANFLAGS :=
endif

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool

# pkg-config name -> Debian package, checked before anything is compiled.
PKG_MAP := libseccomp:libseccomp-dev fuse3:libfuse3-dev libbpf:libbpf-dev readline:libreadline-dev \
           vterm:libvterm-dev yaml-0.1:libyaml-dev jansson:libjansson-dev sqlite3:libsqlite3-dev \
           liboath:liboath-dev libfido2:libfido2-dev libcrypto:libssl-dev libqrencode:libqrencode-dev
PKGS     := $(foreach p,$(PKG_MAP),$(firstword $(subst :, ,$(p))))
PKG_OK   := $(shell for m in $(PKG_MAP); do p=$${m%%:*}; d=$${m#*:}; \
              pkg-config --exists $$p || echo "$$p(Debian package $$d)"; done)
ifneq ($(strip $(PKG_OK)),)
  ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
    $(error missing libraries: $(PKG_OK) -- run 'make deps' as root or apt-get install them)
  endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Start-up cost (issue #4): every shared library is mapped and relocated on each
# `agentsh -c` (21 of them cost ~4 ms).  Libraries Debian ships as archives are
# linked statically (rebuild after their security updates; `make STATIC_PKGS=`
# links them dynamically); libfido2 and libqrencode are not linked at all:
# approve/ dlopens them on first use (approve/lazylib_int.h).  --exclude-libs
# keeps those archives' symbols out of the dynamic table, so a dlopened library
# binds to its own dependencies (libfido2 to libcrypto.so), never to our copies
# (only those archives: the fuzz build's static ASan runtime must stay exported).
comma      := ,
STATIC_PKGS ?= libseccomp fuse3 libbpf readline vterm yaml-0.1 jansson sqlite3 liboath libcrypto
DLOPEN_PKGS := libfido2 libqrencode
SYS_LIBS   := -lm -ldl -lpthread -lrt
STATIC_L   := $(if $(strip $(STATIC_PKGS)),$(filter-out $(SYS_LIBS) -pthread,$(shell \
                pkg-config --static --libs-only-l $(STATIC_PKGS) 2>/dev/null)))
DYNAMIC_L  := $(if $(strip $(filter-out $(STATIC_PKGS) $(DLOPEN_PKGS),$(PKGS))),$(shell \
                pkg-config --libs $(filter-out $(STATIC_PKGS) $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null))
empty      :=
EXCLUDE_L  := $(subst $(empty) $(empty),:,$(strip $(patsubst -l%,lib%.a,$(sort $(STATIC_L)))))
PKG_LIBS   := $(if $(EXCLUDE_L),-Wl$(comma)--exclude-libs$(comma)$(EXCLUDE_L)) \
              -Wl,-Bstatic $(STATIC_L) -Wl,-Bdynamic $(DYNAMIC_L) $(SYS_LIBS)

CPPFLAGS += -I. -I$(B)/bpf -D_GNU_SOURCE -DAGENTSH_VERSION='"$(VERSION)"'
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -fPIE -fstack-protector-strong \
            -D_FORTIFY_SOURCE=2 $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SANFLAGS)
ifneq ($(SAN)$(FUZZ),)
CFLAGS   := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS)) -O1
endif

# Order matters for static linking: users before what they use (DESIGN §7).
MODULES := shell completions enforce approve bpf pty audit policy

define module_vars
$(1)_SRC := $$(filter-out %.bpf.c,$$(wildcard $(1)/*.c)) $$(wildcard $(1)/*.S)
$(1)_OBJ := $$(patsubst %.S,$(B)/%.o,$$(patsubst %.c,$(B)/%.o,$$($(1)_SRC)))
endef
$(foreach m,$(MODULES),$(eval $(call module_vars,$(m))))

LIB_MODULES := $(filter-out shell,$(MODULES))
LIBS_A      := $(foreach m,$(LIB_MODULES),$(B)/lib$(m).a)
SHELL_OBJ   := $(shell_OBJ)

# BPF programs: bpf/*.bpf.c -> $(B)/bpf/*.bpf.o -> $(B)/bpf/*.skel.h (CO-RE, vmlinux.h from BTF)
BPF_SRC  := $(wildcard bpf/*.bpf.c)
BPF_OBJ  := $(patsubst bpf/%.bpf.c,$(B)/bpf/%.bpf.o,$(BPF_SRC))
BPF_SKEL := $(patsubst bpf/%.bpf.c,$(B)/bpf/%.skel.h,$(BPF_SRC))
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(filter-out tests/unit/test_%.c,$(UNIT_SRC)))
UNIT_HELP := $(patsubst %.c,$(B)/%.o,$(filter tests/unit/test_%.c,$(UNIT_SRC)))
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRC))
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(B)/tests/bench/%,$(BENCH_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

.PHONY: all deps run test test-unit test-san bench fuzz install clean check tools
.DEFAULT_GOAL := all

all: $(B)/agentsh tools

tools: $(TOOL_BIN)

deps:
	@sh mk/deps.sh

$(B)/agentsh: $(SHELL_OBJ) $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $(SHELL_OBJ) -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS)

define module_lib
$(B)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^ $$(if $$($(1)_OBJ),,$(B)/empty.o)
endef
$(foreach m,$(LIB_MODULES),$(eval $(call module_lib,$(m))))

$(B)/empty.o:
	@mkdir -p $(@D)
	echo 'typedef int agentsh_empty_unit;' | $(CC) -x c -c -o $@ -
$(foreach m,$(LIB_MODULES),$(if $($(m)_OBJ),,$(eval $(B)/lib$(m).a: $(B)/empty.o)))

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -c -o $@ $<

# The embedded default policy is assembled from the YAML file (.incbin).
$(B)/policy/embedded.o: examples/policies/default.yaml

# Every object of bpf/ may include a skeleton.
$(bpf_OBJ): $(BPF_SKEL)

$(B)/bpf/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/bpf/vmlinux.h $(wildcard bpf/*.bpf.h)
	$(CLANG) -g -O2 -target bpf -fdebug-prefix-map=$(CURDIR)=. -D__TARGET_ARCH_$(BPF_ARCH) -I$(B)/bpf -Ibpf -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# The pin directory's name: the first 8 bytes of the object's SHA-256, computed here so
# no session pays for hashing ~1 MB at start-up (docs/bpf.md, "Load once").
$(bpf_OBJ): $(patsubst %.skel.h,%.id.h,$(BPF_SKEL))
$(B)/bpf/%.id.h: $(B)/bpf/%.bpf.o
	printf '#define GUARD_OBJ_ID "%s"\n' "$$(sha256sum < $< | cut -c1-16)" > $@.tmp && mv $@.tmp $@

# Minimal CO-RE BTF of this kernel for each BPF object, embedded in the loader (docs/bpf.md).
$(bpf_OBJ): $(patsubst %.skel.h,%.minbtf.h,$(BPF_SKEL))
$(B)/bpf/%.minbtf.h: $(B)/bpf/%.bpf.o bpf/embed_minbtf.sh
	$(BPFTOOL) gen min_core_btf /sys/kernel/btf/vmlinux $(B)/bpf/$*.min.btf $<
	sh bpf/embed_minbtf.sh $* $(B)/bpf/$*.min.btf /sys/kernel/notes > $@.tmp && mv $@.tmp $@

# Unit tests (cmocka): tests/unit/<module>_*.c, linked with every module library.
# tests/unit/test_*.c are shared helpers linked into each.
$(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_HELP) $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HELP) -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS) -lcmocka

$(B)/tests/tools/%: $(B)/tests/tools/%.o $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS)
# The software FIDO2 authenticator of the approval tests speaks CBOR (libcbor).
$(B)/tests/tools/softfido: PKG_LIBS += -lcbor

$(B)/tests/bench/%: $(B)/tests/bench/%.o $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS)

test-unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(B)

# `make test`: deps, both builds, every suite.  tests/run.sh prints a summary and
# fails when any test fails; skips are listed with their reason.
test: deps
	$(MAKE) all $(UNIT_BIN)
	$(MAKE) SAN=1 all test-unit-bins
	$(MAKE) fuzz
	sh tests/run.sh

test-unit-bins: $(UNIT_BIN)

test-san:
	$(MAKE) SAN=1 all test-unit-bins
	AGENTSH_BUILD=build-san sh tests/run.sh

bench: deps all $(BENCH_BIN)
	sh tests/bench/run.sh $(B)

fuzz:
	$(MAKE) FUZZ=1 fuzz-bins

fuzz-bins: $(FUZZ_BIN)

build-fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(LIBS_A)
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize=fuzzer-no-link%,$(CFLAGS)) -fsanitize=fuzzer,address,undefined \
		-o $@ $< -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS)

# enforce/ never runs the agent's commands as root: as root, `make run` runs them
# as a dedicated unprivileged account, created on first use.
RUN_USER ?= agentsh-demo
run: deps all
	@echo "agentsh: starting an interactive session on the embedded default policy (exit with Ctrl-D)"
	@if [ "$$(id -u)" = 0 ]; then \
		id $(RUN_USER) >/dev/null 2>&1 || useradd -m -s /bin/bash $(RUN_USER) || exit 1; \
		echo "agentsh: commands run as the account $(RUN_USER)"; \
		exec ./$(B)/agentsh --no-config --user $(RUN_USER) -i; \
	else exec ./$(B)/agentsh -i; fi

install: all
	install -D -m 4755 -o root -g root $(B)/agentsh $(DESTDIR)$(PREFIX)/bin/agentsh
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	-install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	-install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	-install -D -m 644 completions/agentsh.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/agentsh
	-install -D -m 644 completions/_agentsh $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_agentsh
	-install -D -m 644 completions/agentsh.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/agentsh.fish
	-install -D -m 755 examples/cron/agentsh-trash $(DESTDIR)/etc/cron.daily/agentsh-trash

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
