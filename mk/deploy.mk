# Deployment, manifests and monitoring: the Helm chart, kustomize, samples, Prometheus rules,
# Grafana dashboards, scripts and workflows. scripts/lint.sh does the checking.

HELM := $(ROOT)/.tools/bin/helm
KUBECTL := $(ROOT)/.tools/bin/kubectl
CHART := deploy/helm/karbonetes
HELM_RELEASE ?= karbonetes
HELM_NAMESPACE ?= karbonetes-system
# Extra `helm` arguments, e.g. HELM_ARGS="-f my-values.yaml --set webhook.replicas=3".
HELM_ARGS ?=
# `make helm-template OUT=rendered.yaml` writes the rendering there instead of stdout.
OUT ?=

LINT_TARGETS += lint-manifests

.PHONY: helm-lint helm-template deploy lint-manifests kustomize-base

helm-lint: install ## Lint the Helm chart with its default values and every values variant in ci/.
	@set -e; for values in "" $(wildcard $(CHART)/ci/*-values.yaml); do \
	  echo "== helm lint $${values:-(default values)}"; \
	  $(HELM) lint --strict $(CHART) --namespace $(HELM_NAMESPACE) $${values:+-f $$values}; \
	done

helm-template: install ## Render the chart (with its CRD) to stdout, or to $(OUT) when set.
	@$(HELM) template $(HELM_RELEASE) $(CHART) --namespace $(HELM_NAMESPACE) --include-crds $(HELM_ARGS) \
	  $(if $(OUT),> $(OUT))

deploy: install ## helm upgrade --install into karbonetes-system (uses KUBECONFIG; HELM_ARGS for values).
	$(HELM) upgrade --install $(HELM_RELEASE) $(CHART) --namespace $(HELM_NAMESPACE) --create-namespace \
	  $(if $(KUBECONFIG),--kubeconfig $(KUBECONFIG)) --wait --timeout 5m $(HELM_ARGS)

kustomize-base: install ## Regenerate deploy/kustomize/base from the chart (after changing the chart or its CRD).
	@bash scripts/lint.sh sync

lint-manifests: install ## helm lint/template, kubernetes-validate, kustomize, promtool, yamllint, shellcheck, actionlint.
	@bash scripts/lint.sh
