"""Conventions every stack shares: state backend, provider, and clean synthesized output."""

from __future__ import annotations

import re

from stacks.environments import load_environments
from tests.synth_helpers import Synthesized

ENVS = load_environments()
REQUIRED_TAG_KEYS = {"project", "environment", "component", "managed-by", "owner", "cost-center"}


def test_every_environment_has_its_stacks(synthesized: Synthesized) -> None:
    for env in ("dev", "staging", "prod"):
        for component in ("network", "data"):
            assert f"kakehashi-{env}-{component}" in synthesized.stack_ids
    # Dependencies are built first: the data stack reads the network stack's outputs.
    ids = list(synthesized.stack_ids)
    for env in ("dev", "staging", "prod"):
        assert ids.index(f"kakehashi-{env}-network") < ids.index(f"kakehashi-{env}-data")


def test_backend_keys_are_unique_encrypted_and_locked(synthesized: Synthesized) -> None:
    keys = []
    for stack_id in synthesized.stack_ids:
        backend = synthesized.stack(stack_id).doc["terraform"]["backend"]["s3"]
        assert backend["encrypt"] is True, stack_id
        assert backend["use_lockfile"] is True, stack_id
        assert "dynamodb_table" not in backend
        keys.append((backend["bucket"], backend["key"]))
        env = stack_id.split("-")[1]
        if env in ENVS:
            assert backend["bucket"] == ENVS[env].state.bucket
            assert backend["region"] == ENVS[env].region
            assert backend["key"] == f"{env}/{stack_id.split('-', 2)[2]}.tfstate"
    assert len(keys) == len(set(keys)), keys


def test_provider_is_pinned_to_the_account_with_default_tags(synthesized: Synthesized) -> None:
    for stack_id in synthesized.stack_ids:
        env = stack_id.split("-")[1]
        if env not in ENVS:
            continue
        (provider,) = synthesized.stack(stack_id).doc["provider"]["aws"]
        assert provider["allowed_account_ids"] == [ENVS[env].account_id]
        assert provider["region"] == ENVS[env].region
        tags = provider["default_tags"][0]["tags"]
        assert set(tags) == REQUIRED_TAG_KEYS
        assert tags["environment"] == env
        assert tags["component"] == stack_id.split("-", 2)[2]
        assert tags["owner"] == ENVS[env].tags.owner
        assert tags["cost-center"] == ENVS[env].tags.cost_center
        assert "version" not in tags


def test_no_unresolved_token_in_any_synthesized_file(synthesized: Synthesized) -> None:
    markers = re.compile(r"\$\{TfToken\[|#\{Token|\$\{Token\[|TOKEN\.\d+|\[object Object\]")
    for path, text in synthesized.files.items():
        found = markers.findall(text)
        assert not found, f"{path}: {found[:3]}"
