# stacktag: build the demo stack, run the hook, test, benchmark.
#   make hook/base-notebook   everything it needs (daemon, root image, images), then the hook
#   make test                 daemon, fixtures, then every test (unit and integration)
SHELL := /bin/bash
.DEFAULT_GOAL := help

REGISTRY   ?= localhost:5000
OWNER      ?= stacktag
ROOT_IMAGE ?= stacktag/debian:bookworm
TEST_IMAGE ?= stacktag-test/busybox:latest
TEST_IMAGE_ARM64 ?= stacktag-test/busybox-arm64:latest
# Where hook/% writes tags/, manifests/ and hist_lines/.
OUT        ?= build/stacktag
# The wiki checkout `make wiki` updates (a git repository, created if absent), and its HTML site.
WIKI_DIR   ?= build/wiki
WIKI_HTML  ?= build/wiki-html
# The local registry of registry-up/push/merge (test credentials, loopback only).
REGISTRY_USER     ?= stacktag
REGISTRY_PASSWORD ?= stacktag-test-password
STACKTAG   := $(or $(CARGO_TARGET_DIR),target)/debug/stacktag
# actionlint, zizmor, check-jsonschema (a venv) and gitlab-ci-local (npm), for the `stacktag ci` tests.
# Outside the checkout, so a new clone (a CI run) does not install them again.
CI_TOOLS   ?= $(HOME)/.cache/stacktag/ci-tools
export CI_TOOLS
# The demo stack's generated CI files, committed (not live workflows of this repository).
CI_GITHUB  ?= examples/ci/github.yml
CI_GITLAB  ?= examples/ci/gitlab-ci.yml
CARGO      ?= cargo

.PHONY: dist ci-examples ci-check ci-local help deps docker-up root-image fixtures chromium stacktag build-all hook-all wiki test lint bench bench-wiki bench-find clean registry-up push-all merge-all bench-publish bench-archive bench-build bench-registry fuzz podman-up test-podman plugin-template multiarch
help: ## this list
	@grep -hE '^[a-z%/-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

docker-up: ## make a Docker daemon answer (installs and starts one if needed)
	@scripts/docker-up

root-image: docker-up ## the demo stack's root image (debootstrap, cached by name)
	@scripts/root-image $(ROOT_IMAGE)

fixtures: root-image ## test fixture images (cached by name) and every tool the tests use (no test installs one)
	@scripts/busybox-image $(TEST_IMAGE)
	@scripts/need openssl qemu-aarch64-static:qemu-user-static zstd curl \
	  docker-registry htpasswd:apache2-utils skopeo
	@scripts/ci-tools $(CI_TOOLS)
	@scripts/binfmt
	@scripts/busybox-arm64-image $(TEST_IMAGE_ARM64)

chromium: ## headless chromium for the wiki site test (Debian's package)
	@scripts/chromium

stacktag: ## build the stacktag binary
	@[ -x $(STACKTAG) ] || echo "stacktag: building the binary with cargo (a first build takes several minutes)" >&2
	@$(CARGO) build --quiet --bin stacktag

# ROOT_IMAGE reaches the root's `ARG ROOT_IMAGE` (hashed there: a new root image rebuilds the stack).
BUILD_FLAGS := --registry $(REGISTRY) --owner $(OWNER) --build-arg ROOT_IMAGE=$(ROOT_IMAGE) --out-dir $(OUT)

build/%: root-image stacktag ## build image % and its ancestors (`stacktag build`: unchanged images are reused)
	@$(STACKTAG) build $(BUILD_FLAGS) $*

build-all: root-image stacktag ## build every image of hierarchy.yaml, independent ones at the same time
	@$(STACKTAG) build $(BUILD_FLAGS) --all

hook/%: build/% ## build image % if needed, then tag it and write its files under $(OUT)
	@$(STACKTAG) hook --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) $*

hook-all: build-all ## the hook over the whole stack, images concurrently
	@$(STACKTAG) hook --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) --all

wiki: stacktag ## add $(OUT)'s builds to the wiki checkout $(WIKI_DIR), commit there, render $(WIKI_HTML)
	@[ -d $(WIKI_DIR)/.git ] || git init -q $(WIKI_DIR)
	@$(STACKTAG) wiki --wiki-dir $(WIKI_DIR) --hist-lines-dir $(OUT)/hist_lines --manifests-dir $(OUT)/manifests \
	  --html $(WIKI_HTML)
	@git -C $(WIKI_DIR) add -A && { git -C $(WIKI_DIR) diff --cached --quiet \
	  || git -C $(WIKI_DIR) -c user.name=stacktag -c user.email=stacktag@localhost \
	       commit -q -m "Builds of $$(git rev-parse --short=12 HEAD)"; }

registry-up: ## a registry with basic auth on $(REGISTRY) when it is a loopback one (docker-registry, htpasswd)
	@case "$(REGISTRY)" in localhost:*|127.*) \
	  STACKTAG_TEST_USER=$(REGISTRY_USER) STACKTAG_TEST_PASSWORD=$(REGISTRY_PASSWORD) \
	    scripts/registry-up $(lastword $(subst :, ,$(REGISTRY))) ;; esac

push/%: hook/% registry-up ## tag image % (hook), then push its platform tags to $(REGISTRY)
	@STACKTAG_REGISTRY_USER=$(REGISTRY_USER) STACKTAG_REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	  $(STACKTAG) push --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) --image $*

merge/%: registry-up stacktag ## put the multi-platform tags of image % from the tags files under $(OUT)/tags
	@STACKTAG_REGISTRY_USER=$(REGISTRY_USER) STACKTAG_REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	  $(STACKTAG) merge --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) --image $* $(MERGE_FLAGS)

push-all: hook-all registry-up ## hook, then push every image of the stack (platform tags)
	@for img in $$($(STACKTAG) check --images); do \
	  STACKTAG_REGISTRY_USER=$(REGISTRY_USER) STACKTAG_REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	    $(STACKTAG) push --quiet --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) --image $$img >/dev/null || exit 1; \
	done

merge-all: registry-up stacktag ## merge every image of the stack from the tags files under $(OUT)/tags
	@for img in $$($(STACKTAG) check --images); do \
	  STACKTAG_REGISTRY_USER=$(REGISTRY_USER) STACKTAG_REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	    $(STACKTAG) merge --quiet --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) --image $$img $(MERGE_FLAGS) >/dev/null || exit 1; \
	done

bench-publish: hook-all ## wall time of push + merge of the whole stack into an emptied local registry
	@REGISTRY=$(REGISTRY) OWNER=$(OWNER) REGISTRY_USER=$(REGISTRY_USER) REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	  scripts/publish-bench $(STACKTAG) $(OUT)

ARCHIVES ?= build/archives
save/%: build/% ## write image % to $(ARCHIVES)/{image}_{sha12}_{id12}.tar, gzip layers as the registry takes them (+ .sha256)
	@$(STACKTAG) save --registry $(REGISTRY) --owner $(OWNER) --dir $(ARCHIVES) $*

push-archive/%: registry-up stacktag ## push the newest archive of image % from $(ARCHIVES), no daemon (tags from $(OUT)/tags)
	@STACKTAG_REGISTRY_USER=$(REGISTRY_USER) STACKTAG_REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	  $(STACKTAG) push --registry $(REGISTRY) --owner $(OWNER) --out-dir $(OUT) \
	    --archive "$$(ls -t $(ARCHIVES)/$*_*.tar* | grep -v '\.sha256$$' | head -n1)"

bench-archive: build-all ## save + first push --archive against docker save|zstd + zstd -d|docker load + docker push (BENCH_RUNS alternating runs, medians, ratios)
	@$(CARGO) build --quiet --release --bin stacktag
	@REGISTRY=$(REGISTRY) OWNER=$(OWNER) REGISTRY_USER=$(REGISTRY_USER) REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) \
	  scripts/archive-bench $(or $(CARGO_TARGET_DIR),target)/release/stacktag $(BENCH_IMAGES)

deps: ## the module import graph of src/ and its import circles (none may span two folders)
	$(CARGO) run --quiet --example deps

dist: ## release archive of the binary (build/dist/stacktag-{version}-{target}.tar.gz) and its .sha256
	$(CARGO) build --quiet --release --bin stacktag
	@scripts/dist $(or $(CARGO_TARGET_DIR),target)/release/stacktag build/dist

ci-examples: stacktag ## write the demo stack's CI files ($(CI_GITHUB), $(CI_GITLAB)) with `stacktag ci`
	@$(STACKTAG) ci github --output $(CI_GITHUB)
	@$(STACKTAG) ci gitlab --output $(CI_GITLAB)

ci-check: stacktag ## fail (exit 18, diff printed) when the committed CI files are not what `stacktag ci` writes now
	@$(STACKTAG) ci check --github $(CI_GITHUB) --gitlab $(CI_GITLAB)

# Port of the registry `make ci-local` publishes to (its own, with auth; not $(REGISTRY)).
CI_LOCAL_PORT ?= 5077
# The leaf image whose Dockerfile the second run of `make ci-local` changes.
CI_LOCAL_LEAF ?= java-notebook
ci-local: root-image stacktag ## run the demo stack's generated GitLab pipeline twice (gitlab-ci-local; then after a leaf change), check registry and wiki, print both wall times
	@scripts/ci-tools $(CI_TOOLS)
	@REGISTRY_USER=$(REGISTRY_USER) REGISTRY_PASSWORD=$(REGISTRY_PASSWORD) CI_TOOLS=$(CI_TOOLS) \
	  scripts/ci-local-twice $(STACKTAG) $(CI_LOCAL_PORT) build/ci-local $(CI_LOCAL_LEAF)

plugin-template: ## a new tagger plugin crate in DIR (from examples/plugin-tagger, with stacktag's Cargo.lock)
	@[ -n "$(DIR)" ] || { echo "usage: make plugin-template DIR=path/to/my-tagger" >&2; exit 2; }
	@scripts/plugin-template $(DIR)

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

test: fixtures chromium build-all ## every test, on the real Docker daemon (and headless chromium)
	$(CARGO) test
	@left=$$(docker ps -aq --filter label=org.stacktag.managed | wc -l); \
	  if [ "$$left" != 0 ]; then echo "FAIL: $$left container(s) labelled org.stacktag.managed left behind" >&2; exit 1; fi

# Podman beside Docker: its own configuration, storage and socket under PODMAN_DIR.
PODMAN_DIR ?= /tmp/stacktag-podman
PODMAN_HOST := unix://$(PODMAN_DIR)/podman.sock
podman-up: ## Podman's Docker-compatible API on $(PODMAN_DIR)/podman.sock (Debian's podman, no catatonit)
	@scripts/podman-up $(PODMAN_DIR) >/dev/null

test-podman: podman-up ## build with reuse, hook and its cache, save and load, against Podman (DOCKER_HOST at its socket)
	@DOCKER_HOST=$(PODMAN_HOST) scripts/busybox-image $(TEST_IMAGE)
	DOCKER_HOST=$(PODMAN_HOST) $(CARGO) test --test integration podman:: -- --ignored
	@left=$$(DOCKER_HOST=$(PODMAN_HOST) docker ps -aq --filter label=org.stacktag.managed | wc -l); \
	  if [ "$$left" != 0 ]; then echo "FAIL: $$left container(s) labelled org.stacktag.managed left behind on podman" >&2; exit 1; fi

bench-registry: ## copy of a 6-image, 2-platform build to a second registry (release): stacktag copy against skopeo copy --multi-arch all (BENCH_RUNS rounds)
	@$(CARGO) build --quiet --release --bin stacktag
	@scripts/registry-bench $(or $(CARGO_TARGET_DIR),target)/release/stacktag $(or $(BENCH_RUNS),3)

bench-build: root-image ## build figures (release): BuildKit cold vs the classic loop and --builder classic, warm apt cache, one apt line (BENCH_RUNS rounds)
	@$(CARGO) build --quiet --release --bin stacktag
	@REGISTRY=$(REGISTRY) ROOT_IMAGE=$(ROOT_IMAGE) scripts/build-bench $(or $(CARGO_TARGET_DIR),target)/release/stacktag

multiarch: fixtures stacktag ## a tiny stack built for linux/amd64 and linux/arm64 (QEMU), hooked, pushed to a local registry, merged
	@scripts/multiarch $(STACKTAG)

bench: build-all ## wall time and peak memory of `stacktag hook --all`, with and without --sbom, against the floor
	$(CARGO) bench --bench hook

bench-wiki: ## time to update a wiki of 4560 manifests, and its HTML site (printed)
	$(CARGO) bench --profile dev --bench wiki

bench-find: chromium ## catalog of 4,602 real-size builds: time, size; bytes and first result per query in chromium; find time
	$(CARGO) bench --bench find

# Each fuzz target runs FUZZ_SECONDS; the corpus grows in fuzz/corpus (seeds: fuzz/seeds),
# a crash lands in fuzz/artifacts and fails the run. cargo-fuzz on the stable toolchain
# (RUSTC_BOOTSTRAP=1 for its -Z flags); no sanitizer: the code is safe Rust, panics are the bugs.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := hierarchy tagger_output wiki_inputs wiki_pages tags_file
fuzz: ## run every fuzz target for FUZZ_SECONDS (default 60) each; crashes fail it
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s" >&2; \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer none $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=65536 2>&1 \
	    | grep -E '^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::average_exec_per_sec|==|.*panicked|SUMMARY|Test unit written)' ; \
	  [ $${PIPESTATUS[0]} = 0 ] || exit 1; \
	done


clean: ## remove build outputs (not images)
	rm -rf build target

build:
	@mkdir -p build
