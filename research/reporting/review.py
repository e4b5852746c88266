"""The consolidated calibration review: every study, an executive summary and provenance in one PDF.

A review is driven by a YAML config (see ``configs/review.yaml``). The studies run with
papermill under the config's parameters; their executed cells are assembled after a cover page,
a table of contents and the decision memo (:mod:`research.reporting.memo`), written from the
results the studies recorded (:func:`research.reporting.record`), followed by a comparison with
the baseline parameter set (when given) and a provenance appendix. The review is the one
document of a run: no study PDF is written beside it (``research reports`` writes those).
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
from research.reporting.memo import DecisionMemo, SignOff, decision_memo
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
from research.reporting.studies import run_studies, select_studies
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
    profile : str, optional
        Calibration profile replacing the calibration config's (e.g. ``"emir-2d-99"``); by
        default each study calibrates under its config's own profile. The cover names the
        profile the calibration recorded.
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
    baseline : str, optional
        The current parameter set (JSON or YAML file, relative to the working folder) the
        memo compares the proposal with; ``--baseline`` overrides it. None: a first
        calibration.
    preparer, reviewer : str, optional
        Names in the memo's sign-off block (blank lines to sign when not given).

    Raises
    ------
    SpecificationError
        A field of the wrong type (``seed: abc``, a bare string for ``studies``), an unknown
        profile, a date that is not ISO, or ``start`` after ``end``.
    """

    title: str = "Margin parameter calibration review"
    dataset: str = "sp500"
    data_path: str | None = None
    profile: str | None = None
    start: str | None = None
    end: str | None = None
    seed: int = 0
    fast: bool = False
    studies: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    preparer: str | None = None
    reviewer: str | None = None

    def __post_init__(self) -> None:
        from research.calibration.risk_weights import PROFILES

        for name in ("start", "end"):
            object.__setattr__(self, name, iso_date(getattr(self, name), f"review.{name}"))
        check_field_types(self, "review")
        if self.seed < 0:
            raise SpecificationError(f"review.seed must be >= 0, got {self.seed}")
        if self.profile is not None and self.profile not in PROFILES:
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
        if config_path is not None:  # named apart from a study's own calibration ``config``
            params["review_config"] = str(Path(config_path).resolve())
        params.update(self.parameters)
        return params


@dataclass(frozen=True)
class Review:
    """The outputs of :func:`build_review`.

    Attributes
    ----------
    pdf, html : pathlib.Path
        The review (``html`` is None when not written).
    notebooks : tuple of pathlib.Path
        The executed study notebooks (``_build/NN_topic.ipynb``).
    records : mapping
        The results each study recorded, by study.
    seconds : float
        Run time.
    run_id : str
        The run's id (named in the provenance appendix and the manifest).
    memo : DecisionMemo
        The decision memo (its verdicts, limitations and the profile used).
    """

    pdf: Path
    html: Path | None
    notebooks: tuple[Path, ...]
    records: Mapping[str, Mapping[str, Any]]
    seconds: float
    run_id: str
    memo: DecisionMemo


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
        Report folder: ``review.pdf``, ``review.html`` and the executed studies (``_build``)
        go here.
    notebooks : str or pathlib.Path
        Folder of the study notebooks.
    data : str or pathlib.Path, optional
        Price file overriding the config's data.
    baseline : str or pathlib.Path, optional
        The current parameter set (JSON or YAML); overrides the config's ``baseline``. The
        memo compares the proposal with it; without one the proposal is a first calibration.
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
    baseline = baseline if baseline is not None else config.baseline
    baseline_params = _read_baseline(baseline)
    _check_inputs(config, notebooks)
    selected = select_studies(notebooks, config.studies or None)
    planned = ["_build", "review.pdf"] + (["review.html"] if html else [])
    command = f"build_review {config_path or config.title!s}"
    with report_run(out, planned=planned, command=command, force=force) as run:
        reports = run_studies(
            selected,
            run.staging,
            config.study_parameters(config_path),
            stream=stream,
            run_id=run.run_id,
            pdf=False,
        )
        records = {r.notebook.source.stem: read_records(r.notebook.path) for r in reports}
        merged = {name: value for study in records.values() for name, value in study.items()}
        memo = decision_memo(
            merged,
            baseline=baseline_params,
            baseline_name=None if baseline is None else Path(baseline).name,
            signoff=SignOff(config.preparer, config.reviewer, _today()),
            fast=config.fast,
            examined=_examined_assets(records),
        )
        used = memo.profile or "not recorded by the calibration study"
        print(f"calibration profile used: {used}", file=stream, flush=True)
        print("assembling the consolidated review", file=stream, flush=True)
        files = ["_build", "review.pdf"] + (["review.html"] if html else [])
        seconds = time.perf_counter() - started
        nb = _assemble(
            config,
            [r.notebook for r in reports],
            records,
            memo,
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
        tuple(run.final(r.notebook.path) for r in reports),
        records,
        seconds,
        run.run_id,
        memo,
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

#: Longest text of a flattened parameter value in the baseline comparison.
_MAX_TEXT = 90
_MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?(Z|\+00:00)?$")


def _assemble(
    config: ReviewConfig,
    executed: list[ExecutedNotebook],
    records: Mapping[str, Mapping[str, Any]],
    memo: DecisionMemo,
    *,
    config_text: str,
    baseline: Mapping[str, Any] | None,
    baseline_path: str | Path | None,
    run_seconds: Mapping[str, float],
    total_seconds: float,
    run_files: tuple[str, list[str]],
) -> nbformat.NotebookNode:
    proposed = next((r["parameters"] for r in records.values() if "parameters" in r), None)
    cells = _memo_cells(config, executed, memo)
    if baseline is not None:
        cells += _baseline_cells(baseline, proposed, baseline_path)
    for study in executed:
        cells += _study_cells(study)
    cells += _provenance_cells(
        config,
        config_text,
        records,
        run_seconds,
        total_seconds,
        run_files,
        baseline_path,
        memo.profile or "not recorded by the calibration study",
    )
    nb = v4.new_notebook(cells=cells)
    nb.metadata.update(
        {
            "title": config.title,
            "subtitle": _source_label(config),
            "profile": memo.profile or "not recorded by the calibration study",
            "version": research.__version__,
            "date": _today(),
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        }
    )
    return nb


def _memo_cells(
    config: ReviewConfig, executed: list[ExecutedNotebook], memo: DecisionMemo
) -> list[nbformat.NotebookNode]:
    """Lay out the decision memo as the executive summary, naming the studies behind it."""
    mode = "a fast run (reduced samples, for checking only)" if config.fast else "a full run"
    cells = [
        v4.new_markdown_cell(
            "# Executive summary: decision memo\n\n"
            f"Written from the results of {mode} on {_source_label(config)} (seed "
            f"{config.seed}); the {len(executed)} studies behind it follow in full, one "
            "section each."
        )
    ]
    for section in memo.sections:
        cells.append(v4.new_markdown_cell(f"## {section.title}\n\n{section.text}"))
        if section.table is not None and len(section.table):
            kinds = {c: "percent" for c in section.percent if c in section.table}
            cells.append(_table_cell(Table(section.table, section.caption, kinds=kinds)))
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
    records: Mapping[str, Mapping[str, Any]],
    run_seconds: Mapping[str, float],
    total_seconds: float,
    run_files: tuple[str, list[str]],
    baseline_path: str | Path | None,
    profile: str,
) -> list[nbformat.NotebookNode]:
    from research.data import load_prices, source_label

    source = config.data_path or config.dataset
    prices = load_prices(source, start=config.start, end=config.end)
    rows = {
        "review input": source_label(source),
        "data SHA-256 (whole input)": data_hash(prices),
        "date range (whole input)": f"{prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d}",
        "assets (whole input)": f"{prices.shape[1]:,}",
    }
    if config.data_path:
        rows["input file SHA-256"] = file_hash(config.data_path)
    rows["calibration profile used"] = profile
    if baseline_path is not None:
        rows["baseline parameter set"] = source_label(baseline_path)
        rows["baseline file SHA-256"] = file_hash(baseline_path)
    rows.update(
        {
            "random seed (all studies)": str(config.seed),
            "git commit": git_commit(),
            "requirements.lock SHA-256": lock_hash(),
            "run id": run_files[0],
            "files of this run": ", ".join(run_files[1] + [MANIFEST]),
            "run at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "run time, total": f"{total_seconds:.0f} s",
        }
    )
    rows.update({f"run time, {study}": f"{secs:.0f} s" for study, secs in run_seconds.items()})
    rows.update({f"version: {name}": version for name, version in package_versions().items()})
    table = pd.DataFrame({"value": rows}).rename_axis("item")
    scopes, assets = _data_scopes(records)
    cells = [
        v4.new_markdown_cell(
            "# Provenance appendix\n\nThe git commit is the checkout the review ran from; "
            "(uncommitted changes) after it means tracked files differed from that commit."
        ),
        _table_cell(
            Table(table, "Provenance of this review: input, hashes, seeds, versions, commit.")
        ),
        v4.new_markdown_cell(
            "## Data used by each study\n\nEvery price panel a study used, as the study "
            "recorded it: source, rows, dates and the SHA-256 of the prices (values, dates and "
            "asset names)."
        ),
        _table_cell(
            Table(
                scopes,
                "The data behind each study: source, number of assets and price rows, first "
                "and last date and the SHA-256 of the prices.",
                kinds={"assets": "count", "rows": "count"},
            )
        ),
    ]
    if assets:
        cells.append(v4.new_markdown_cell("\n".join(f"- {line}" for line in assets)))
    cells.append(
        v4.new_markdown_cell(
            "## Configuration as given\n\n```yaml\n" + config_text.strip() + "\n```"
        )
    )
    return cells


def _data_scopes(records: Mapping[str, Mapping[str, Any]]) -> tuple[pd.DataFrame, list[str]]:
    """Tabulate the ``data_scope`` records of every study; list the assets of each panel."""
    rows = []
    assets = []
    for study, recorded in records.items():
        scopes = recorded.get("data_scope")
        if not scopes:
            rows.append({"study": study, "data": "not recorded by the study"})
            continue
        for role, scope in scopes.items():
            rows.append(
                {
                    "study": study,
                    "data": role,
                    "source": scope["source"],
                    "assets": len(scope["assets"]),
                    "rows": scope["rows"],
                    "first": scope["first"],
                    "last": scope["last"],
                    "data SHA-256": scope["data_sha256"],
                }
            )
            assets.append(f"{study}, {role}: {', '.join(scope['assets'])}.")
    frame = pd.DataFrame(rows).set_index(["study", "data"])
    return frame, assets


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


def _examined_assets(records: Mapping[str, Mapping[str, Any]]) -> list[str] | None:
    """Return the assets of the data-quality study (the one that records ``data_summary``)."""
    for recorded in records.values():
        if "data_summary" in recorded:
            scopes = recorded.get("data_scope") or {}
            if scopes:
                return [a for scope in scopes.values() for a in scope["assets"]]
            return [a.strip() for a in str(recorded["data_summary"]["assets"]).split(",")]
    return None


def _today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


def _source_label(config: ReviewConfig) -> str:
    return (
        Path(config.data_path).name if config.data_path else f"the bundled dataset {config.dataset}"
    )


def _config_dict(config: ReviewConfig) -> dict[str, Any]:
    values = asdict(config)
    values["studies"] = list(values["studies"])
    values["parameters"] = dict(values["parameters"])
    return values


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
