"""Captioned figures: show_figure needs a caption and closes the figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from research.errors import SpecificationError
from research.reporting import show_figure, show_text


def test_show_figure_requires_a_caption_and_closes_the_figure():
    fig, ax = plt.subplots()
    ax.plot(np.arange(3))
    with pytest.raises(ValueError, match="caption"):
        show_figure(fig, "")
    show_figure(fig, "A line.")
    assert not plt.fignum_exists(fig.number)


def test_a_labelled_figure_carries_its_label_for_references(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(kw))
    fig, ax = plt.subplots()
    ax.plot(np.arange(3))
    show_figure(fig, "A line.", label="a-line")
    assert shown[0]["metadata"] == {"caption": "A line.", "label": "fig-a-line"}
    with pytest.raises(SpecificationError, match="lower-case"):
        show_figure(plt.figure(), "A line.", label="A line")


def test_show_text_needs_text():
    with pytest.raises(ValueError, match="text"):
        show_text(" ")
