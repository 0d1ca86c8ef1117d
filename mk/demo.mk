# The demo: `make demo` starts karbonetes-devapi, the signal service, the webhook and the
# controller on 127.0.0.1 (state, pidfiles and logs in .demo/), installs the CRD, the webhook
# registration, the default policy and the samples, and shows a live table of the
# carbon-aware Jobs. The other targets work from another terminal, on the local demo or, when
# none runs and KUBECONFIG is set, on the cluster `make deploy` installed into.
# SIGNAL=trace replays a real trace from data/carbon (TRACE=file, TRACE_SPEEDUP=60);
# DEMO_WATCH=0 prints the table once instead of refreshing it.

DEMO = SWIFT="$(SWIFT)" KUBECTL="$(KUBECTL)" HELM_RELEASE="$(HELM_RELEASE)" HELM_NAMESPACE="$(HELM_NAMESPACE)" bash scripts/demo/demo.sh

.PHONY: demo demo-up demo-watch demo-green-on demo-green-off demo-submit demo-status demo-signal demo-down

demo: install ## Start the local demo (devapi, signal, webhook, controller), submit the samples, show the live table.
	@$(DEMO) up
	@$(DEMO) watch

demo-up: install ## Start the local demo without the live table.
	@$(DEMO) up

demo-watch: ## The live table of carbon-aware Jobs (Ctrl-C leaves the demo running).
	@$(DEMO) watch

demo-green-on: ## Force the signal green (demo override): held Jobs are released to the green pool.
	@$(DEMO) green-on

demo-green-off: ## Force the signal not green: new carbon-aware Jobs are held.
	@$(DEMO) green-off

demo-submit: ## Submit another carbon-aware Job (a copy of samples/job-carbon-aware.yaml).
	@$(DEMO) submit

demo-status: ## The table once, and the signal's state.
	@$(DEMO) status

demo-signal: ## The signal service's JSON for region default.
	@$(DEMO) signal

demo-down: ## Stop everything the demo started (nothing is left running; logs stay in .demo/).
	@$(DEMO) down
