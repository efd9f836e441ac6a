"""The package's one backoff formula."""

from __future__ import annotations

import pytest

from comfyhangar.core.backoff import Backoff


def test_the_ceiling_doubles_from_the_base_to_the_cap() -> None:
    shape = Backoff(0.5, 20.0)
    assert [shape.ceiling(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 20, 20]
    assert shape.ceiling(10_000) == 20.0  # no overflow on a long outage


@pytest.mark.parametrize(("jitter", "lowest"), [(1.0, 0.0), (0.5, 2.0), (0.0, 4.0)])
def test_jitter_draws_between_a_share_of_the_ceiling_and_all_of_it(
    jitter: float, lowest: float
) -> None:
    low = Backoff(1.0, 60.0, jitter=jitter, random=lambda: 0.0)
    high = Backoff(1.0, 60.0, jitter=jitter, random=lambda: 1.0)
    assert low.delay(2) == lowest
    assert high.delay(2) == 4.0


def test_nonsense_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        Backoff(1.0, 2.0, jitter=1.5)
    with pytest.raises(ValueError, match="negative"):
        Backoff(-1.0, 2.0)
