"""Captioned figures: show_figure needs a caption and closes the figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from research.reporting import show_figure


def test_show_figure_requires_a_caption_and_closes_the_figure():
    fig, ax = plt.subplots()
    ax.plot(np.arange(3))
    with pytest.raises(ValueError, match="caption"):
        show_figure(fig, "")
    show_figure(fig, "A line.")
    assert not plt.fignum_exists(fig.number)
