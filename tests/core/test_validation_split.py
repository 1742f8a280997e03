"""The validation share: 20 % once that is enough to pick a best point, 5 % (at least one) below."""

import pytest

from segstudio.core.validation_split import TRUSTED_VALIDATION, trusted, validation_count


@pytest.mark.parametrize(("labelled", "val"), [
    (0, 0), (1, 1), (2, 1), (8, 1), (32, 2), (60, 3), (97, 5),  # a curve to watch: 5 %, at least one
    (98, 20), (100, 20), (500, 100),                             # enough to trust: 20 %
])
def test_the_rule(labelled, val):
    assert validation_count(labelled) == val


def test_a_split_is_trusted_exactly_when_the_rule_gives_it_the_large_share():
    for labelled in range(2, 400):
        val = validation_count(labelled)
        assert trusted(val) == (val >= TRUSTED_VALIDATION) == (labelled * 0.2 >= TRUSTED_VALIDATION - 0.5)
        assert 1 <= val < labelled


def test_a_given_share_wins_and_leaves_one_image_to_train():
    assert validation_count(10, 0.5) == 5
    assert validation_count(10, 0.99) == 9
    assert validation_count(10, 0.0) == 1
