# The local API server (shared/KarbonetesDevAPI): `make devapi` builds bin/karbonetes-devapi in
# debug mode, fast enough for tests and the demo; `make devapi-run` starts it on :6443.

DEVAPI_PACKAGE := shared/KarbonetesDevAPI
DEVAPI_DATA ?= $(ROOT)/.demo/devapi
DEVAPI_KUBECONFIG ?= $(ROOT)/.demo/kubeconfig

.PHONY: devapi devapi-run

devapi: ## Build bin/karbonetes-devapi (debug) for tests and the demo.
	@$(SWIFT) build --package-path $(DEVAPI_PACKAGE) --product karbonetes-devapi
	@mkdir -p $(BIN)
	@ln -sf "$$($(SWIFT) build --package-path $(DEVAPI_PACKAGE) --show-bin-path)/karbonetes-devapi" $(BIN)/karbonetes-devapi
	@echo "bin/karbonetes-devapi -> $$(readlink $(BIN)/karbonetes-devapi)"

devapi-run: devapi ## Run the local API server on 127.0.0.1:6443 with the Job lifecycle and CronJobs (kubeconfig in .demo/).
	$(BIN)/karbonetes-devapi --listen 127.0.0.1:6443 --data-dir $(DEVAPI_DATA) --kubeconfig-out $(DEVAPI_KUBECONFIG) --job-lifecycle --cronjobs
