"""House style and captioned figures for study notebooks and reports."""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns

__all__ = ["set_theme", "show_figure", "PALETTE"]

#: Colour-blind-safe palette used by every figure (seaborn's "colorblind").
PALETTE = "colorblind"


def set_theme() -> None:
    """Apply the house style: seaborn whitegrid, colour-blind palette, print-size fonts."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="paper", font_scale=1.15)
    mpl.rcParams.update(
        {
            "figure.figsize": (7.5, 3.6),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def show_figure(fig: plt.Figure, caption: str) -> None:
    """Display a figure with a caption and close it.

    In Jupyter the figure shows as a PNG; in the PDF report it becomes a
    numbered LaTeX figure whose caption is ``caption``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to show.
    caption : str
        One or two sentences saying what the figure shows and how to read it.
    """
    from IPython.display import Image, Markdown, display

    if not caption or not caption.strip():
        raise ValueError("every report figure needs a caption")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"), metadata={"caption": caption})
    display(Markdown(f"*{caption}*"), metadata={"caption_text": True})
