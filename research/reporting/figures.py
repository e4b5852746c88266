"""House style and captioned figures for study notebooks and reports."""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns

from research.reporting.latex_tables import exhibit_label

__all__ = ["PALETTE", "set_theme", "show_figure", "show_text"]

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


def show_figure(fig: plt.Figure, caption: str, *, label: str | None = None) -> None:
    """Display a figure with a caption and close it.

    In Jupyter the figure shows as a PNG; in the PDF report it becomes a
    numbered LaTeX figure whose caption is ``caption``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to show.
    caption : str
        One or two sentences saying what the figure shows and how to read it.
    label : str, optional
        Name the text refers to as ``[Figure](#fig-<label>)`` in a Markdown cell (the PDF
        prints "Figure 3"); lower-case letters, digits and hyphens.
    """
    from IPython.display import Image, Markdown, display

    if not caption or not caption.strip():
        raise ValueError("every report figure needs a caption")
    metadata = {"caption": caption}
    if label is not None:
        metadata["label"] = exhibit_label("fig", label)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"), metadata=metadata)
    display(Markdown(f"*{caption}*"), metadata={"caption_text": True})


def show_text(markdown: str) -> None:
    """Display a paragraph of Markdown that the PDF typesets as text (not as code output).

    Use it for prose that depends on the results, e.g. a sentence citing a table that is only
    shown when it has rows: ``show_text("[Table](#tab-gaps) lists the gaps.")``.

    Parameters
    ----------
    markdown : str
        The paragraph.
    """
    from IPython.display import Markdown, display

    if not markdown or not markdown.strip():
        raise ValueError("show_text needs some text")
    display(Markdown(markdown))
