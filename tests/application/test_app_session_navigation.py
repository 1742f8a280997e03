"""application.navigation: A/D follow the file list as displayed, prefetch follows file order."""

from __future__ import annotations

from segstudio.application.session import navigation


def test_neighbours_stay_inside_the_project():
    assert navigation.neighbours(0, 3) == [1]
    assert navigation.neighbours(1, 3) == [2, 0]
    assert navigation.neighbours(2, 3) == [1]
    assert navigation.neighbours(0, 1) == []


def test_valid_index():
    assert navigation.is_valid(0, 1) and not navigation.is_valid(1, 1) and not navigation.is_valid(-1, 5)


def test_step_follows_the_displayed_order_not_file_order():
    displayed = [3, 0, 4, 1]  # sorted by uncertainty, image 2 filtered out
    assert navigation.step(displayed, 0, +1) == 4
    assert navigation.step(displayed, 0, -1) == 3
    assert navigation.step(displayed, 3, -1) is None  # top of the list
    assert navigation.step(displayed, 1, +1) is None  # bottom of the list


def test_step_from_an_image_that_is_not_displayed_takes_the_nearest_in_that_direction():
    displayed = [0, 2, 4]  # the current image 3 was just filtered out
    assert navigation.step(displayed, 3, +1) == 4
    assert navigation.step(displayed, 3, -1) == 2
    assert navigation.step(displayed, -1, +1) == 0  # nothing open yet: the first one
    assert navigation.step([], 0, +1) is None
