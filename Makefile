# Odoo Operator — developer entry points. `make help` lists them.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# Tools live outside the clone so that a fresh clone reuses them.
CACHE_DIR ?= $(HOME)/.cache/odoo-operator
TOOLS_BIN ?= $(CACHE_DIR)/tools/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CONTROLLER_GEN ?= $(TOOLS_BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT ?= $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# The S3 server of the backup tests (internal/testutil/s3harness builds the same
# version itself when missing; building it here keeps it out of a test's timeout).
VERSITYGW_VERSION ?= v1.8.0
VERSITYGW ?= $(TOOLS_BIN)/versitygw-$(VERSITYGW_VERSION)
# helm, for the chart's lint, snapshot and install tests (charts/odoo-operator).
HELM_VERSION ?= v3.22.1
HELM ?= $(TOOLS_BIN)/helm-$(HELM_VERSION)

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the Go markers.
	$(CONTROLLER_GEN) crd rbac:roleName=odoo-operator webhook paths=./api/... paths=./internal/controller/... paths=./internal/webhook/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac output:webhook:artifacts:config=config/webhook
	hack/helm-chart.sh

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint.
	$(GOLANGCI_LINT) run --build-tags e2e,scale,helm,chaos ./...

.PHONY: verify
verify: generate manifests ## Fail when generated files are not committed.
	@git diff --exit-code -- api config charts || { echo "generated files are stale: run 'make generate manifests' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- charts)" || { git status --short -- charts; echo "generated chart files are not committed: run 'make manifests' and commit"; exit 1; }

##@ Test

# The control plane binaries (etcd, kube-apiserver, ...) built from the Go module
# proxy by hack/k8s-tools/build.sh into a fixed cache directory.
K8S_BINS = $(shell hack/k8s-tools/build.sh | tail -1)
# E2E_PORT_OFFSET moves every port of the e2e sandbox, so that two checkouts can
# run `make test-e2e` side by side (e.g. E2E_PORT_OFFSET=100).
E2E_PORT_OFFSET ?= 0
# E2E_RUN selects tests (go test -run), e.g. E2E_RUN=TestUpgrade.
E2E_RUN ?= .
e2e_port = $(shell echo $$(($(1) + $(E2E_PORT_OFFSET))))
E2E_ENV = SANDBOX_DIR=$(CURDIR)/.sandbox-e2e SANDBOX_ETCD_PORT=$(call e2e_port,23379) SANDBOX_APISERVER_PORT=$(call e2e_port,27443) \
	SANDBOX_KCM_PORT=$(call e2e_port,21257) SANDBOX_SCHEDULER_PORT=$(call e2e_port,21259) SANDBOX_KWOK_PORT=$(call e2e_port,21250) \
	SANDBOX_PG_PORT=$(call e2e_port,26432) SANDBOX_PG2_PORT=$(call e2e_port,26433) SANDBOX_OPERATOR_METRICS_PORT=$(call e2e_port,19080) \
	SANDBOX_OPERATOR_HEALTH_PORT=$(call e2e_port,19081) SANDBOX_WEBHOOK_PORT=$(call e2e_port,20443) \
	OPERATOR_ARGS="--log-sample-interval=5s --backup-start-deadline=20s --preflight-pull-timeout=20s"

.PHONY: test
test: verify lint helm-test test-alerts test-unit test-conversions test-e2e ## Everything CI runs: generated files, lint, unit + envtest, conversion fuzzing, end to end.

.PHONY: test-unit
test-unit: $(VERSITYGW) ## Unit and envtest suites against a real kube-apiserver/etcd, PostgreSQL and an S3 server.
	hack/postgres.sh install
	VERSITYGW_BIN=$(VERSITYGW) KUBEBUILDER_ASSETS="$(K8S_BINS)" go test -count=1 -skip TestFuzzyConversion ./...

.PHONY: test-alerts
test-alerts: ## promtool unit tests of the alert rules (config/prometheus/rules_test.yaml); promtool is built once from its Go module.
	hack/promtool/test-rules.sh

.PHONY: test-conversions
test-conversions: ## Fuzz every CRD conversion both ways (10,000 objects per direction and version pair).
	KUBEBUILDER_ASSETS="$(K8S_BINS)" go test -count=1 -timeout 30m -run TestFuzzyConversion -v ./internal/webhook/conversion/... >.conversions.log 2>&1 || \
	  { grep -vE '^(=== (RUN|PAUSE|CONT)|--- PASS)' .conversions.log | tail -300; echo 'a failing case names its seed above: CONVERSION_FUZZ_SEED=<seed> reruns it'; exit 1; }
	grep -E '^(--- |ok|FAIL|PASS)|iterations' .conversions.log

.PHONY: test-e2e
test-e2e: $(HELM) ## Start a separate sandbox, run test/e2e with real kubectl, stop it.
	$(E2E_ENV) hack/sandbox.sh up
	set +e; eval "$$($(E2E_ENV) hack/sandbox.sh env)"; \
	  $(E2E_ENV) HELM=$(HELM) go test -count=1 -tags e2e -timeout 55m -run '$(value E2E_RUN)' ./test/e2e/... ; rc=$$?; \
	  [ $$rc -eq 0 ] || tail -50 .sandbox-e2e/logs/operator.log; \
	  $(E2E_ENV) hack/sandbox.sh down; exit $$rc

.PHONY: helm-lint
helm-lint: $(HELM) ## helm lint the chart (charts/odoo-operator) with its default and test values.
	$(HELM) lint --strict charts/odoo-operator
	for v in test/helm/testdata/*.values.yaml; do $(HELM) lint --strict charts/odoo-operator -f $$v; done

.PHONY: helm-test
helm-test: helm-lint ## helm lint, and `helm template` against the committed snapshots (test/helm/testdata).
	HELM=$(HELM) go test -count=1 -tags helm ./test/helm/

.PHONY: helm-snapshots
helm-snapshots: $(HELM) ## Rewrite the chart's snapshots (test/helm/testdata/*.golden.yaml) after a deliberate change.
	HELM=$(HELM) go test -count=1 -tags helm ./test/helm/ -run TestSnapshots -args -update

N ?= 200
# CHAOS_RUN selects scenarios (go test -run), CHAOS_COUNT repeats each.
CHAOS_RUN ?= TestChaos
CHAOS_COUNT ?= 1
# CHAOS_TIMEOUT bounds the whole go test run (raise it with CHAOS_COUNT).
CHAOS_TIMEOUT ?= 55m
.PHONY: chaos
chaos: ## Start a separate sandbox, run the fault scenarios (test/e2e, tag chaos), stop it. Not in CI (minutes each) but for the short one, in test-e2e.
	$(E2E_ENV) hack/sandbox.sh up
	set +e; eval "$$($(E2E_ENV) hack/sandbox.sh env)"; \
	  $(E2E_ENV) go test -count=$(CHAOS_COUNT) -tags e2e,chaos -timeout $(CHAOS_TIMEOUT) -v -run '$(value CHAOS_RUN)' ./test/e2e/ ; rc=$$?; \
	  $(E2E_ENV) hack/sandbox.sh down; exit $$rc

# SCALE_RUN selects the harness's test: TestScale (N instances), or
# TestLogSamplingCost / TestUpgradeLatency, which have their own sizes.
SCALE_RUN ?= TestScale$$
.PHONY: scale
scale: ## Create N instances on the running sandbox and report time to Ready, RSS, API requests.
	eval "$$(hack/sandbox.sh env)"; go test -count=1 -tags scale -timeout 90m -v -run '$(SCALE_RUN)' ./test/scale/... -args -instances=$(N)

##@ Sandbox

.PHONY: sandbox
sandbox: ## Start the local sandbox (control plane, KWOK, PostgreSQL, operator, real Odoo) and apply config/samples.
	hack/sandbox.sh up
	eval "$$(hack/sandbox.sh env)"; \
	  kubectl apply -k config/samples; \
	  echo "waiting for the sample instance: a real Odoo init, ~20-40 s on 2 cores"; \
	  kubectl wait --for=condition=Ready odooinstances.v1alpha2.bemade.org --all --timeout=600s; \
	  kubectl get odooinstances.v1alpha2.bemade.org,deploy,svc,ingress,pvc -o wide; \
	  echo; echo 'Next: eval "$$(hack/sandbox.sh env)"; kubectl get odoo -w'

.PHONY: sandbox-down
sandbox-down: ## Stop the local sandbox.
	hack/sandbox.sh down

##@ Deploy

IMG ?= ghcr.io/odoo-operator/odoo-operator:latest
KUBECTL ?= $(K8S_BINS)/kubectl

# LEGACY_VERSIONS=true also serves the deprecated API versions (bemade.org/v1,
# v1alpha1) for clusters migrating from the reference operator (docs/versions.md).
LEGACY_VERSIONS ?= false
DEPLOY_CONFIG = $(if $(filter true,$(LEGACY_VERSIONS)),config/migrating,config/default)

.PHONY: deploy
deploy: ## Install CRDs, RBAC and the manager (image IMG) on the cluster of the current kubeconfig (LEGACY_VERSIONS=true serves bemade.org/v1).
	$(KUBECTL) kustomize $(DEPLOY_CONFIG) | sed 's|image: controller:latest|image: $(IMG)|' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the manager and RBAC. CRDs stay: deleting them would delete every OdooInstance.
	$(KUBECTL) delete --ignore-not-found -k config/manager
	$(KUBECTL) delete --ignore-not-found -k config/rbac

##@ Build

.PHONY: build
build: plugin ## Build the operator binary and the kubectl plugin into bin/.
	go build -o bin/odoo-operator ./cmd

.PHONY: plugin
plugin: ## Build the kubectl plugin bin/kubectl-odoo (put bin/ on PATH to run `kubectl odoo`; see docs/plugin.md).
	go build -o bin/kubectl-odoo ./cmd/kubectl-odoo

##@ Tools

$(CONTROLLER_GEN):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(TOOLS_BIN)/controller-gen $@

$(VERSITYGW):
	@mkdir -p $(TOOLS_BIN)
	d=$$(mktemp -d) && GOBIN=$$d go install -trimpath github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION) && mv $$d/versitygw $@ && rmdir $$d

# helm from its Go module (no prebuilt binary downloads here), with the ldflags
# of helm's own Makefile: its version, and the Kubernetes version `helm
# template` and `helm lint` assume (that of its client-go, v0.37 -> 1.37).
# Cold build: see docs/helm.md.
HELM_LDFLAGS = -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	$(foreach p,pkg/lint/rules pkg/chartutil,-X helm.sh/helm/v3/$(p).k8sVersionMajor=1 -X helm.sh/helm/v3/$(p).k8sVersionMinor=37)
$(HELM):
	@mkdir -p $(TOOLS_BIN)
	d=$$(mktemp -d) && CGO_ENABLED=0 GOBIN=$$d go install -trimpath -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) && mv $$d/helm $@ && rmdir $$d

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS_BIN)/golangci-lint $@
