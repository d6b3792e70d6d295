from __future__ import annotations

from collections.abc import Callable

import pytest


def test_vpc_rejects_every_bad_prop_at_once(scratch_stack: Callable[[], object]) -> None:
    from modules.network.vpc import Vpc, VpcProps

    props = VpcProps(
        name="x",
        cidr="10.0.0.0/16",
        availability_zones=["ap-northeast-1a", "ap-northeast-1a"] * 3,
        nat_strategy="none",  # type: ignore[arg-type]
    )
    with pytest.raises(ValueError, match="give 2 to 4 AZs") as info:
        Vpc(scratch_stack(), "vpc", props)  # type: ignore[arg-type]
    assert "AZs must be distinct" in str(info.value)
    assert "nat_strategy='none'" in str(info.value)
