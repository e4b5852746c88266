"""The boundary warning names the stationarity condition it checks (issue 16 item 9)."""

from __future__ import annotations

import re

from research.correlation.model import boundary_note


def test_adcc_note_states_the_asymmetric_condition_under_its_own_name():
    # a + b = 0.992 with g = 0.016 and delta = 1/2 (symmetric innovations): the checked
    # quantity a + b + g/2 is 1.000, and a + b must be printed as 0.992, not as the total.
    note = boundary_note({"a": 0.05, "b": 0.942, "g": 0.016}, 0.5)
    assert "a + b + delta*g = 1.000000" in note
    assert "a + b = 0.992000" in note
    assert "delta = 0.5000" in note and "g = 0.016000" in note
    assert not re.search(r"\(a \+ b = 1\.0", note)


def test_dcc_note_states_a_plus_b():
    note = boundary_note({"a": 0.03, "b": 0.96999}, 0.5)
    assert "a + b < 1: a + b = 0.999990" in note
    assert "delta" not in note
