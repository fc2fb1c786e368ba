# The gateway: two dynamic nginx modules, the SFU daemon and the tools.
# See README.md; the command names are fixed by shared/CONTRACT.md.

SHELL := /bin/bash

NGINX_SRC ?= /usr/share/nginx/src
NGINX_BIN ?= /usr/sbin/nginx
BUILD     ?= $(CURDIR)/build

NGINX_BUILD := $(BUILD)/nginx
MODULES_DIR := $(BUILD)/modules
BIN_DIR     := $(BUILD)/bin
TEST_DIR    := $(BUILD)/test

MODULES := $(MODULES_DIR)/ngx_gateway_module.so \
           $(MODULES_DIR)/ngx_voice_signal_module.so

MODULE_SOURCES := config \
    $(wildcard ngx_gateway_module/*.[ch]) \
    $(wildcard ngx_voice_signal_module/*.[ch]) \
    $(wildcard sfu/include/*.h)

# the node started by run/start (shared/CONTRACT.md)
PORT          ?= 8080
TLS_PORT      ?= 8443
WORKERS       ?= 2
SFU_PORT      ?= 50000
RUN_DIR       ?= run
HEARTBEAT_MS  ?= 41250
CLUSTER_REDIS ?=
NODE_ID       ?= 1
export PORT TLS_PORT WORKERS SFU_PORT RUN_DIR HEARTBEAT_MS CLUSTER_REDIS \
       NODE_ID NGINX_BIN BUILD

# the pure codecs, linked alone into unit tests and fuzz targets
CODEC_SRCS := ngx_gateway_module/ngx_ws_frame.c \
              ngx_gateway_module/ngx_ws_utf8.c
CODEC_INCS := -I$(NGINX_BUILD)/src/core -I$(NGINX_BUILD)/src/event \
              -I$(NGINX_BUILD)/src/event/modules -I$(NGINX_BUILD)/src/os/unix \
              -I$(NGINX_BUILD)/objs -Ingx_gateway_module
TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
               -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
FUZZ_TARGETS := ws_frame ws_utf8

.PHONY: all modules sfu gwload gwctl deps test unit fuzz-replay fuzz bench \
        run start stop reload clean

all: modules sfu gwload gwctl

deps:
	@tools/deps.sh

# --- the nginx modules -----------------------------------------------------

$(NGINX_BUILD)/.configured: config tools/configure-nginx.sh
	@mkdir -p $(BUILD)
	@tools/configure-nginx.sh $(NGINX_SRC) $(NGINX_BUILD) $(CURDIR) \
	    > $(BUILD)/configure.log 2>&1 \
	    || { tail -30 $(BUILD)/configure.log; exit 1; }
	@touch $@

modules: $(MODULES)

$(MODULES): $(NGINX_BUILD)/.configured $(MODULE_SOURCES)
	$(MAKE) -C $(NGINX_BUILD) -f objs/Makefile modules
	@mkdir -p $(MODULES_DIR)
	@# a new file renamed into place: a running nginx keeps its mapping of
	@# the old one (copying over it in place would crash its workers)
	@for m in ngx_gateway_module ngx_voice_signal_module; do \
	    cp $(NGINX_BUILD)/objs/$$m.so $(MODULES_DIR)/.$$m.so.new \
	    && mv -f $(MODULES_DIR)/.$$m.so.new $(MODULES_DIR)/$$m.so; \
	done

# --- the SFU and the tools -------------------------------------------------

sfu:
	$(MAKE) -C sfu BUILD=$(BUILD)

gwload:
	$(MAKE) -C tools/gwload BUILD=$(BUILD)

gwctl:
	$(MAKE) -C tools/gwctl BUILD=$(BUILD)

# --- tests -----------------------------------------------------------------

$(TEST_DIR)/test_ws_codec: t/unit/test_ws_codec.c $(CODEC_SRCS) \
                           $(NGINX_BUILD)/.configured
	@mkdir -p $(TEST_DIR)
	$(CC) $(TEST_CFLAGS) $(CODEC_INCS) -o $@ t/unit/test_ws_codec.c \
	    $(CODEC_SRCS)

$(TEST_DIR)/fuzz_%_replay: fuzz/fuzz_%.c fuzz/standalone.c $(CODEC_SRCS) \
                           $(NGINX_BUILD)/.configured
	@mkdir -p $(TEST_DIR)
	$(CC) $(TEST_CFLAGS) $(CODEC_INCS) -o $@ fuzz/fuzz_$*.c \
	    fuzz/standalone.c $(CODEC_SRCS)

unit: $(TEST_DIR)/test_ws_codec

fuzz-replay: $(FUZZ_TARGETS:%=$(TEST_DIR)/fuzz_%_replay)

test: deps all unit fuzz-replay
	@tools/run-tests.sh

# coverage-guided fuzzing with libFuzzer (clang); not part of `make test`
FUZZ_SECONDS ?= 60
fuzz: $(NGINX_BUILD)/.configured
	@tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps all
	@bench/run.sh

# --- the node ----------------------------------------------------------------

run: deps all
	@tools/node.sh run

start: deps all
	@tools/node.sh start

stop:
	@tools/node.sh stop

reload:
	@tools/node.sh reload

clean:
	rm -rf $(BUILD) t/servroot*
