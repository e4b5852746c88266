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
from research._config import check_field_types, iso_date, read_yaml_mapping
from research._io import atomic_path
from research.errors import SpecificationError
from research.reporting.notebooks import ExecutedNotebook
from research.reporting.pdf import check_pdf_toolchain, export_html, export_pdf
from research.reporting.provenance import (
    data_hash,
    file_hash,
    git_commit,
    lock_hash,
    package_versions,
)
from research.reporting.publish import MANIFEST, report_run
from research.reporting.results import read_records
from research.reporting.studies import published, run_studies, select_studies
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

    Raises
    ------
    SpecificationError
        A field of the wrong type (``seed: abc``, a bare string for ``studies``), an unknown
        profile, a date that is not ISO, or ``start`` after ``end``.
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

    def __post_init__(self) -> None:
        from research.calibration.risk_weights import PROFILES

        for name in ("start", "end"):
            object.__setattr__(self, name, iso_date(getattr(self, name), f"review.{name}"))
        check_field_types(self, "review")
        if self.seed < 0:
            raise SpecificationError(f"review.seed must be >= 0, got {self.seed}")
        if self.profile not in PROFILES:
            raise SpecificationError(
                f"review.profile {self.profile!r} is unknown; choose from {sorted(PROFILES)}"
            )
        if self.start and self.end and self.end < self.start:
            raise SpecificationError(
                f"review.end ({self.end}) is before review.start ({self.start})"
            )
        object.__setattr__(self, "studies", tuple(self.studies))
        object.__setattr__(self, "parameters", dict(self.parameters))

    @classmethod
    def from_yaml(cls, path: str | Path) -> ReviewConfig:
        """Read a review config file (fields at the top level or under ``review:``).

        Parameters
        ----------
        path : str or pathlib.Path
            The YAML file.

        Returns
        -------
        ReviewConfig

        Raises
        ------
        SpecificationError
            A missing, empty or malformed file (with its line), an unknown key (a typo must not
            pass silently) or an invalid value; the message names the file.
        """
        raw, where = read_yaml_mapping(Path(path), "review config")
        review = raw["review"] if set(raw) == {"review"} else raw
        if not isinstance(review, Mapping) or not review:
            raise SpecificationError(f"{where}: 'review' must be a mapping of settings")
        unknown = set(review) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise SpecificationError(
                f"{where}: unknown key(s) {sorted(unknown)}; valid keys are "
                f"{list(cls.__dataclass_fields__)}"
            )
        try:
            return cls(**review)
        except SpecificationError as exc:
            raise SpecificationError(f"{where}: {exc}") from exc

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
    run_id: str


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
    force: bool = False,
) -> Review:
    """Run the studies and assemble the consolidated review PDF (and HTML).

    Everything that can be checked is checked before the first study runs: the config, the
    data file, the baseline parameter set, the calibration config a study is given, the study
    names and the report folder. The run writes into a staging folder; only a complete run
    replaces the previous run's files in ``out`` (:mod:`research.reporting.publish`), and the
    provenance appendix names the run id and its files.

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
    force : bool
        Replace files of the review's names in ``out`` that the previous run did not write.

    Returns
    -------
    Review

    Raises
    ------
    SpecificationError, ParameterError
        An invalid config, data file, baseline or study name (before any study runs).
    OutputError
        ``out`` cannot be written, or holds files of the review's names it does not own.
    NotebookExecutionError
        A study failed; ``out`` is left as it was.
    """
    check_pdf_toolchain()
    started = time.perf_counter()
    stream = stream or sys.stderr
    config_path = None
    config_text = None
    if not isinstance(config, ReviewConfig):
        config_path = Path(config)
        config = ReviewConfig.from_yaml(config_path)
        config_text = config_path.read_text(encoding="utf-8")
    overrides: dict[str, Any] = {}
    if data is not None:
        overrides["data_path"] = str(Path(data).resolve())
    if fast is not None:
        overrides["fast"] = fast
    if overrides:
        config = replace(config, **overrides)
    config_text = config_text or yaml.safe_dump(_config_dict(config), sort_keys=False)
    baseline_params = _read_baseline(baseline)
    _check_inputs(config, notebooks)
    selected = select_studies(notebooks, config.studies or None)
    planned = [f"{p.stem}.pdf" for p in selected] + ["_build", "review.pdf"]
    planned += ["review.html"] if html else []
    command = f"build_review {config_path or config.title!s}"
    with report_run(out, planned=planned, command=command, force=force) as run:
        reports = run_studies(
            selected,
            run.staging,
            config.study_parameters(config_path),
            stream=stream,
            run_id=run.run_id,
        )
        records = {r.notebook.source.stem: read_records(r.notebook.path) for r in reports}
        print("assembling the consolidated review", file=stream, flush=True)
        files = [r.pdf.name for r in reports] + ["review.pdf"] + (["review.html"] if html else [])
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
            run_files=(run.run_id, files),
        )
        build = run.staging / "_build" / "review.ipynb"
        build.parent.mkdir(exist_ok=True)
        with atomic_path(build) as partial:
            nbformat.write(nb, partial)
        pdf = export_pdf(build, run.staging / "review.pdf", layout="review")
        html_path = export_html(build, run.staging / "review.html") if html else None
    seconds = time.perf_counter() - started
    pdf = run.final(pdf)
    print(f"review: {pdf} (run {run.run_id}, {seconds:.0f} s)", file=stream, flush=True)
    return Review(
        pdf,
        None if html_path is None else run.final(html_path),
        tuple(published(run, r).pdf for r in reports),
        records,
        seconds,
        run.run_id,
    )


def _read_baseline(baseline: str | Path | None) -> dict[str, Any] | None:
    """Parse and validate the baseline parameter set before any study runs."""
    if baseline is None:
        return None
    from research.calibration import MarginParameters

    path = Path(baseline)
    if path.suffix.lower() in (".yaml", ".yml"):
        return MarginParameters.from_yaml(path).to_dict()
    return MarginParameters.from_json(path).to_dict()


def _check_inputs(config: ReviewConfig, notebooks: str | Path) -> None:
    """Check the data file and a calibration config given to the studies, up front."""
    if config.data_path is not None and not Path(config.data_path).is_file():
        raise SpecificationError(f"data file {config.data_path} does not exist")
    calibration = config.parameters.get("calibration_config")
    if calibration is not None:
        from research.calibration.config import CalibrationConfig

        path = Path(calibration)
        if not path.is_absolute():  # the studies run in the notebook folder
            path = Path(notebooks) / path
        CalibrationConfig.from_yaml(path)


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
        "Coverage of the proposed parameter set per hedged pair and per family: frozen after its "
        "as-of date, and with its config recalibrated quarterly on past data (rolling).",
        "Kupiec's test is two-sided: a p-value below 5% with too many exceptions means the margin "
        "is too low, with too few that it is too high; an independence test without an "
        "exception to test is undefined, not passed.",
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
    run_files: tuple[str, list[str]],
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
    cells += _provenance_cells(config, config_text, run_seconds, total_seconds, run_files)
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
        if name == "coverage":
            reading = f"{_backtested_set(merged)} {reading}"
        cells.append(v4.new_markdown_cell(reading))
        cells.append(_table_cell(Table(frame, caption, precision=3)))
    if missing:
        cells.append(
            v4.new_markdown_cell(
                "Not produced by the studies in this run: " + ", ".join(missing) + "."
            )
        )
    return cells


def _backtested_set(merged: Mapping[str, Any]) -> str:
    """Say which parameter set the coverage exhibit backtests, and whether it is the proposal."""
    backtested = merged.get("backtest_fingerprint")
    proposed = merged.get("proposal_fingerprint")
    if backtested is None:
        return "The studies recorded no fingerprint for the backtested parameter set."
    if proposed is None:
        return f"The backtest margins the parameter set with fingerprint {backtested}."
    if backtested != proposed:
        return (
            f"Warning: the backtest margins the parameter set with fingerprint {backtested}, "
            f"not the proposal of this review ({proposed})."
        )
    return f"The backtest margins the proposal of this review, fingerprint {proposed}."


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
    run_files: tuple[str, list[str]],
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
        "requirements.lock SHA-256": lock_hash(),
        "run id": run_files[0],
        "files of this run": ", ".join(run_files[1] + [MANIFEST]),
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
