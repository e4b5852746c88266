"""The consolidated calibration review: every study, an executive summary and provenance in one PDF.

A review is driven by a YAML config (see ``configs/review.yaml``). The studies run with
papermill under the config's parameters; each gets its own PDF, then their executed cells are
assembled after a cover page, a table of contents and an executive summary generated from the
results the studies recorded (:func:`research.reporting.record`), followed by a comparison with
a baseline parameter set (when given) and a provenance appendix.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import nbformat
import pandas as pd
import yaml
from nbformat import v4

import research
from research.errors import ReportError
from research.reporting.notebooks import ExecutedNotebook
from research.reporting.pdf import check_pdf_toolchain, export_html, export_pdf
from research.reporting.provenance import data_hash, file_hash, git_commit, package_versions
from research.reporting.results import read_records
from research.reporting.studies import build_reports
from research.reporting.tables import Table

__all__ = ["ReviewConfig", "Review", "build_review", "compare_parameters"]


@dataclass(frozen=True)
class ReviewConfig:
    """Settings of a calibration review (the YAML config as an object).

    Parameters
    ----------
    title : str
        Title on the cover page.
    dataset : str
        Bundled dataset name used when ``data_path`` is not given.
    data_path : str, optional
        A user price file (CSV/Parquet) that replaces the bundled dataset.
    profile : str
        Calibration profile name, printed on the cover (e.g. ``"emir-2d-99"``).
    start, end : str, optional
        Date range passed to every study.
    seed : int
        Seed of every random draw in every study.
    fast : bool
        Reduced samples (for CI and quick checks).
    studies : list of str, optional
        Restrict to these studies (``"01"`` or ``"01_data_quality"``); all when empty.
    parameters : mapping
        Extra parameters passed to every study.
    """

    title: str = "Margin parameter calibration review"
    dataset: str = "sp500"
    data_path: str | None = None
    profile: str = "emir-2d-99"
    start: str | None = None
    end: str | None = None
    seed: int = 0
    fast: bool = False
    studies: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path) -> ReviewConfig:
        """Read a review config; unknown keys are an error (a typo must not pass silently)."""
        raw = yaml.safe_load(Path(path).read_text()) or {}
        review = raw.get("review", raw)
        unknown = set(review) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ReportError(f"unknown key(s) {sorted(unknown)} in review config {path}")
        review = dict(review)
        review["studies"] = tuple(str(s) for s in review.get("studies") or ())
        return cls(**review)

    def study_parameters(self, config_path: str | Path | None) -> dict[str, Any]:
        """Return the papermill parameters every study receives."""
        params: dict[str, Any] = {
            "dataset": self.dataset,
            "data_path": self.data_path,
            "start": self.start,
            "end": self.end,
            "fast": self.fast,
            "seed": self.seed,
            "profile": self.profile,
        }
        if config_path is not None:
            params["config"] = str(Path(config_path).resolve())
        params.update(self.parameters)
        return params


@dataclass(frozen=True)
class Review:
    """The outputs of :func:`build_review`."""

    pdf: Path
    html: Path | None
    study_pdfs: tuple[Path, ...]
    records: Mapping[str, Mapping[str, Any]]
    seconds: float


def build_review(
    config: ReviewConfig | str | Path,
    out: str | Path = "reports",
    *,
    notebooks: str | Path = "notebooks",
    data: str | Path | None = None,
    baseline: str | Path | None = None,
    fast: bool | None = None,
    html: bool = True,
    stream: TextIO | None = None,
) -> Review:
    """Run the studies and assemble the consolidated review PDF (and HTML).

    Parameters
    ----------
    config : ReviewConfig, str or pathlib.Path
        The config object or the path of its YAML file.
    out : str or pathlib.Path
        Report folder: ``review.pdf``, ``review.html`` and the per-study PDFs go here.
    notebooks : str or pathlib.Path
        Folder of the study notebooks.
    data : str or pathlib.Path, optional
        Price file overriding the config's data.
    baseline : str or pathlib.Path, optional
        JSON of the previous parameter set; the review then compares against it.
    fast : bool, optional
        Override the config's fast flag.
    html : bool
        Also write ``review.html``.
    stream : text stream, optional
        Progress lines (default: standard error).

    Returns
    -------
    Review

    Raises
    ------
    NotebookExecutionError
        A study failed; no review PDF is written.
    """
    check_pdf_toolchain()
    started = time.perf_counter()
    stream = stream or sys.stderr
    config_path = None
    config_text = None
    if not isinstance(config, ReviewConfig):
        config_path = Path(config)
        config_text = config_path.read_text()
        config = ReviewConfig.from_yaml(config_path)
    overrides: dict[str, Any] = {}
    if data is not None:
        overrides["data_path"] = str(Path(data).resolve())
    if fast is not None:
        overrides["fast"] = fast
    if overrides:
        config = replace(config, **overrides)
    config_text = config_text or yaml.safe_dump(_config_dict(config), sort_keys=False)
    out = Path(out)
    reports = build_reports(
        notebooks,
        out,
        parameters=config.study_parameters(config_path),
        studies=config.studies or None,
        stream=stream,
    )
    records = {r.notebook.source.stem: read_records(r.notebook.path) for r in reports}
    print("assembling the consolidated review", file=stream, flush=True)
    baseline_params = json.loads(Path(baseline).read_text()) if baseline else None
    seconds = time.perf_counter() - started
    nb = _assemble(
        config,
        [r.notebook for r in reports],
        records,
        config_text=config_text,
        baseline=baseline_params,
        baseline_path=baseline,
        run_seconds={r.notebook.source.stem: r.seconds for r in reports},
        total_seconds=seconds,
    )
    build = out / "_build" / "review.ipynb"
    nbformat.write(nb, build)
    pdf = export_pdf(build, out / "review.pdf", layout="review")
    html_path = export_html(build, out / "review.html") if html else None
    seconds = time.perf_counter() - started
    print(f"review: {pdf} ({seconds:.0f} s)", file=stream, flush=True)
    return Review(pdf, html_path, tuple(r.pdf for r in reports), records, seconds)


def compare_parameters(baseline: Mapping[str, Any], proposed: Mapping[str, Any]) -> pd.DataFrame:
    """Every parameter that differs between two parameter sets, flattened to dotted keys.

    Parameters
    ----------
    baseline, proposed : mapping
        Parameter sets as dictionaries (``MarginParameters.to_dict()``).

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter, columns ``baseline``, ``proposed``, ``change`` (relative change
        for numbers, ``"added"``/``"removed"``/``"changed"`` otherwise).
    """
    old, new = _flatten(baseline), _flatten(proposed)
    rows = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key not in old:
            change = "added"
        elif key not in new:
            change = "removed"
        elif _is_number(before) and _is_number(after) and before != 0:
            change = f"{(after - before) / abs(before):+.1%}"
        else:
            change = "changed"
        rows[key] = {"baseline": _show(before), "proposed": _show(after), "change": change}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["baseline", "proposed", "change"])


# --- assembly -------------------------------------------------------------------------------

#: Executive-summary exhibits: (record name, caption, how to read it).
_SUMMARY_EXHIBITS = (
    (
        "data_summary",
        "The price data behind this review.",
        "Source, assets and dates of the price panel; data quality is documented in its study.",
    ),
    (
        "parameters",
        "Proposed margin parameters.",
        "The parameter set this review proposes; the calibration section derives every number.",
    ),
    (
        "risk_weights",
        "Proposed risk weights by underlying (fraction of notional).",
        "Each weight is the loss quantile over the margin period of risk at the target confidence.",
    ),
    (
        "offset_credits",
        "Offset credits granted and refused, with the reason for every refusal.",
        "A pair gets credit only when its correlation is significant and stable in stress.",
    ),
    (
        "coverage",
        "Coverage achieved out of sample, isolated versus cross margin, with coverage tests.",
        "Achieved coverage should be at or above the target; a Kupiec p-value below 5% or a red "
        "traffic light means the margin is too low (or, above target, too high) for that family.",
    ),
    (
        "offset_caused_exceptions",
        "Margin saved by offsets and the exceptions the offsets caused.",
        "An offset-caused exception: a day covered by isolated margin but not by cross margin.",
    ),
    (
        "stress_replay",
        "Backtest outcomes inside each named stress window.",
        "Stress windows are where offsets fail first; exceptions here weigh most in the review.",
    ),
    (
        "contagion",
        "Contagion: how often one losing position liquidates the whole cross account.",
        "The price of cross margin: a shared collateral pool also shares liquidations.",
    ),
    (
        "apc",
        "Anti-procyclicality: the binding tool and the procyclicality metrics.",
        "The binding tool is the one that sets the margin most often over the sample.",
    ),
    (
        "stressed_correlations",
        "Stressed correlations: the headline numbers.",
        "Pairs whose correlation breaks in stress are refused offset credit or have it haircut.",
    ),
    (
        "dcc_estimation",
        "Correlation models compared.",
        "Likelihood-ratio tests and information criteria select the correlation model.",
    ),
)

#: Longest text of a flattened record value in the summary (the study shows it in full).
_MAX_TEXT = 90
_MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?(Z|\+00:00)?$")

#: Tables wider than this many columns are transposed in the summary to stay legible.
_MAX_SUMMARY_COLUMNS = 8


def _assemble(
    config: ReviewConfig,
    executed: list[ExecutedNotebook],
    records: Mapping[str, Mapping[str, Any]],
    *,
    config_text: str,
    baseline: Mapping[str, Any] | None,
    baseline_path: str | Path | None,
    run_seconds: Mapping[str, float],
    total_seconds: float,
) -> nbformat.NotebookNode:
    merged: dict[str, Any] = {}
    for study_records in records.values():
        merged.update(study_records)
    cells = [v4.new_markdown_cell(_summary_intro(config, executed))]
    cells += _summary_cells(merged)
    if baseline is not None:
        cells += _baseline_cells(baseline, merged.get("parameters"), baseline_path)
    for study in executed:
        cells += _study_cells(study)
    cells += _provenance_cells(config, config_text, run_seconds, total_seconds)
    nb = v4.new_notebook(cells=cells)
    nb.metadata.update(
        {
            "title": config.title,
            "subtitle": _source_label(config),
            "profile": config.profile,
            "version": research.__version__,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        }
    )
    return nb


def _summary_intro(config: ReviewConfig, executed: list[ExecutedNotebook]) -> str:
    studies = "\n".join(f"{i}. {s.title}" for i, s in enumerate(executed, start=1))
    mode = "fast mode (reduced samples, for checking only)" if config.fast else "full run"
    return (
        "# Executive summary\n\n"
        f"This review calibrates margin parameters under the **{config.profile}** profile on "
        f"**{_source_label(config)}** ({mode}, seed {config.seed}). It consists of these studies, "
        f"each reproduced in full in the sections that follow:\n\n{studies}\n\n"
        "The exhibits below are generated from the studies' results; the section of each study "
        "shows where every number comes from."
    )


def _summary_cells(merged: Mapping[str, Any]) -> list[nbformat.NotebookNode]:
    cells = []
    missing = []
    for name, caption, reading in _SUMMARY_EXHIBITS:
        if name not in merged:
            missing.append(name.replace("_", " "))
            continue
        frame = _parameter_table(merged[name]) if name == "parameters" else _as_frame(merged[name])
        if frame.shape[1] > _MAX_SUMMARY_COLUMNS and frame.shape[1] > frame.shape[0]:
            frame = frame.T
        cells.append(v4.new_markdown_cell(reading))
        cells.append(_table_cell(Table(frame, caption, precision=3)))
    if missing:
        cells.append(
            v4.new_markdown_cell(
                "Not produced by the studies in this run: " + ", ".join(missing) + "."
            )
        )
    return cells


def _baseline_cells(
    baseline: Mapping[str, Any], proposed: Any, baseline_path: str | Path | None
) -> list[nbformat.NotebookNode]:
    text = f"# Comparison with the baseline parameter set\n\nBaseline: `{baseline_path}`.\n\n"
    if proposed is None:
        return [
            v4.new_markdown_cell(
                text + "The studies recorded no proposed parameter set to compare."
            )
        ]
    diff = compare_parameters(baseline, proposed)
    if diff.empty:
        return [v4.new_markdown_cell(text + "The proposed parameters equal the baseline.")]
    text += (
        f"{len(diff)} parameter(s) changed. Risk weights and credits move with the data "
        "(a longer or more stressed sample); settings such as confidence, MPOR or caps move "
        "only when the profile changed."
    )
    caption = "Parameters that differ from the baseline: old value, new value and relative change."
    return [v4.new_markdown_cell(text), _table_cell(Table(diff, caption))]


def _study_cells(study: ExecutedNotebook) -> list[nbformat.NotebookNode]:
    nb = nbformat.read(study.path, as_version=4)
    cells = [v4.new_markdown_cell(f"# {study.title}")]
    for cell in nb.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"^(#+ )", r"#\1", cell.source, flags=re.MULTILINE)
        cells.append(cell)
    return cells


def _provenance_cells(
    config: ReviewConfig,
    config_text: str,
    run_seconds: Mapping[str, float],
    total_seconds: float,
) -> list[nbformat.NotebookNode]:
    from research.data import load_prices

    source = config.data_path or config.dataset
    prices = load_prices(source, start=config.start, end=config.end)
    rows = {
        "data source": str(source),
        "data SHA-256": data_hash(prices),
        "date range": f"{prices.index[0]:%Y-%m-%d} .. {prices.index[-1]:%Y-%m-%d}",
        "assets": f"{prices.shape[1]} (listed below)",
        "calibration profile": config.profile,
        "random seed (all studies)": str(config.seed),
        "git commit": git_commit(),
        "run at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "run time, total": f"{total_seconds:.0f} s",
    }
    if config.data_path:
        rows["input file SHA-256"] = file_hash(config.data_path)
    rows.update({f"run time, {study}": f"{secs:.0f} s" for study, secs in run_seconds.items()})
    rows.update({f"version: {name}": version for name, version in package_versions().items()})
    table = pd.DataFrame({"value": rows}).rename_axis("item")
    return [
        v4.new_markdown_cell("# Provenance appendix"),
        _table_cell(
            Table(table, "Provenance of this review: input, hashes, seeds, versions, commit.")
        ),
        v4.new_markdown_cell("Assets: " + ", ".join(map(str, prices.columns)) + "."),
        v4.new_markdown_cell(
            "## Configuration as given\n\n```yaml\n" + config_text.strip() + "\n```"
        ),
    ]


def _table_cell(table: Table) -> nbformat.NotebookNode:
    output = v4.new_output(
        "display_data",
        data={
            "text/latex": table._repr_latex_(),
            "text/html": table._repr_html_(),
            "text/plain": repr(table),
        },
    )
    return v4.new_code_cell(source="", outputs=[output])


# --- small helpers --------------------------------------------------------------------------


def _source_label(config: ReviewConfig) -> str:
    return (
        Path(config.data_path).name if config.data_path else f"bundled dataset '{config.dataset}'"
    )


def _config_dict(config: ReviewConfig) -> dict[str, Any]:
    values = asdict(config)
    values["studies"] = list(values["studies"])
    values["parameters"] = dict(values["parameters"])
    return values


def _as_frame(value: Any) -> pd.DataFrame:
    if isinstance(value, dict) and set(value) == {"columns", "index", "data"}:
        return _tidy_frame(
            pd.DataFrame(
                value["data"], index=_labels(value["index"]), columns=_labels(value["columns"])
            )
        )
    if isinstance(value, dict):
        flat = _flatten(value)
        return pd.DataFrame({"value": {k: _show(v) for k, v in flat.items()}})
    if isinstance(value, list):
        return pd.DataFrame(value)
    return pd.DataFrame({"value": [value]})


def _tidy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda v: _tidy_stamp(v) if isinstance(v, str) else v)


def _parameter_table(value: Mapping[str, Any]) -> pd.DataFrame:
    """Tabulate the proposed parameter set as the calibration stage prints it."""
    from research.calibration import MarginParameters

    return MarginParameters.from_dict(value).to_frame()


def _labels(labels: list[Any]) -> pd.Index:
    """Index labels from JSON: lists (MultiIndex tuples) become a MultiIndex."""
    if labels and all(isinstance(label, list) for label in labels):
        return pd.MultiIndex.from_tuples([tuple(label) for label in labels])
    return pd.Index(labels)


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys for nested mappings; lists of records are keyed by their pair or name."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for position, item in enumerate(value):
                label, rest = _record_label(item, position)
                flat.update(_flatten(rest, f"{name}.{label}."))
        else:
            flat[name] = value
    return flat


def _record_label(item: Mapping[str, Any], position: int) -> tuple[str, dict[str, Any]]:
    """Label a record of a list by its ``pair`` or ``name`` (else its position)."""
    for field_name in ("pair", "name"):
        if field_name in item:
            value = item[field_name]
            label = "/".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            return label, {k: v for k, v in item.items() if k != field_name}
    return str(position), dict(item)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        value = ", ".join(map(str, value))
    return textwrap.shorten(_tidy_stamp(value), _MAX_TEXT, placeholder=" ...")


def _tidy_stamp(value: Any) -> str:
    """ISO stamps from JSON records print as dates when they are midnight."""
    text = str(value)
    return text[:10] if _MIDNIGHT.match(text) else text
