# Carbon evaluation: karbonetes-eval replays a shipped trace and a workload through the decision
# engine and writes the table, the JSON and the plot under bench/eval/. Not part of `make test`.
#   make eval                          Spain 2022, Poisson 1/h, 1 h Jobs, maxDelay 12h
#   make eval EVAL_TRACE=data/carbon/entsoe_GB_2020_30min.csv EVAL_MAX_DELAY=6h
#   make eval EVAL_TRACE=/path/to/my-region.csv EVAL_ARGS="--column direct --from 2023-01-01"
#   make eval-all                      the four shipped traces

EVAL_PACKAGE := tools/eval
EVAL_TRACE ?= data/carbon/electricitymaps_ES_2022_hourly.csv
EVAL_WORKLOAD ?= poisson:1/h;duration=1h;seed=1
EVAL_MAX_DELAY ?= 12h
EVAL_ARGS ?=
EVAL_OUT := $(ROOT)/bench/eval
EVAL_TRACES := $(sort $(wildcard data/carbon/*.csv))

.PHONY: eval eval-all eval-build

eval-build: install
	@$(SWIFT) build --package-path $(EVAL_PACKAGE) $(SWIFT_BUILD_FLAGS) --product karbonetes-eval
	@mkdir -p $(BIN)
	@cp -f "$$($(SWIFT) build --package-path $(EVAL_PACKAGE) $(SWIFT_BUILD_FLAGS) --show-bin-path)/karbonetes-eval" $(BIN)/

eval: eval-build ## Run karbonetes-eval on EVAL_TRACE; table, JSON and SVG (PNG if rsvg-convert) in bench/eval/.
	@$(call run-eval,$(EVAL_TRACE))

eval-all: eval-build ## Run karbonetes-eval on every shipped trace (bench/eval/<trace>.{txt,json,svg,png}).
	@set -e; $(foreach trace,$(EVAL_TRACES),$(call run-eval,$(trace));)

# $(1): the trace. The table goes to the terminal and to bench/eval/<trace>.txt.
define run-eval
set -o pipefail; mkdir -p $(EVAL_OUT); \
name=$$(basename "$(1)" .csv); \
$(BIN)/karbonetes-eval --trace "$(1)" --workload '$(EVAL_WORKLOAD)' --max-delay $(EVAL_MAX_DELAY) $(EVAL_ARGS) \
  --plot "$(EVAL_OUT)/$$name.svg" --json-out "$(EVAL_OUT)/$$name.json" | tee "$(EVAL_OUT)/$$name.txt"; \
echo "make eval: wrote bench/eval/$$name.{txt,json,svg}"
endef
