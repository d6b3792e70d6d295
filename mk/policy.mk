# Policy checks (issue 6): checkov + our own checks in policies/, the review report in reports/policy/.
#   make policy          scan an existing cdktf.out (run `make synth` first; it scans too)
#   make policy-fixtures re-synthesize the check fixtures in policies/fixtures/ from our constructs
# checkov pins conflict with ours, so it lives in its own virtualenv.
CHECKOV_VENV := .venv-checkov
POLICY_OUTDIR ?= cdktf.out
POLICY_REPORTS ?= reports/policy

$(CHECKOV_VENV)/.installed: requirements/checkov.txt scripts/bootstrap.sh
	@PYTHON=$(PYTHON) scripts/bootstrap.sh $(CHECKOV_VENV) requirements/checkov.txt

# `make synth` runs the policy gate after synthesis: it needs the checkov venv too.
synth: $(CHECKOV_VENV)/.installed
test: $(CHECKOV_VENV)/.installed

.PHONY: policy policy-venv policy-fixtures
policy-venv: $(CHECKOV_VENV)/.installed ## create/update .venv-checkov (checkov's own pins)

policy: $(VENV)/.installed $(CHECKOV_VENV)/.installed ## scan cdktf.out: checkov + policies/ -> reports/policy/
	@$(CHECKOV_VENV)/bin/python -m policies.scan --outdir $(POLICY_OUTDIR) --reports $(POLICY_REPORTS)

policy-fixtures: $(VENV)/.installed ## re-synthesize policies/fixtures/ from our constructs
	@$(PY) -m policies.fixtures.synthesize
