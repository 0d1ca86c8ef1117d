# The end-to-end suite (tests/e2e): the real executables as separate processes over real
# sockets with TLS, against karbonetes-devapi (part of `make test`) or a real kube-apiserver.

TEST_TARGETS += test-e2e

.PHONY: test-e2e test-envtest

test-e2e: install ## Run the end-to-end scenarios on the real binaries against karbonetes-devapi (builds them in debug first).
	@set -o pipefail; SWIFT="$(SWIFT)" bash tests/e2e/run.sh devapi

test-envtest: install ## The client tests and the e2e scenarios against kube-apiserver + etcd from KUBEBUILDER_ASSETS (skips, exit 0, when absent).
	@set -o pipefail; bash shared/KarbonetesKube/scripts/test-envtest.sh
	@set -o pipefail; SWIFT="$(SWIFT)" bash tests/e2e/run.sh envtest
