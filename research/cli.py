"""The ``research`` command: a thin argparse layer over library functions.

A user error (an error of the package, :class:`research.errors.ResearchError`, or a file that
cannot be read or written) prints as one line and exits with status 2; any other exception is
a bug: one line saying so and status 1, the traceback only with ``--debug``. Configs, inputs
and output paths are checked before any calculation starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _datasets(args: argparse.Namespace) -> int:
    import pandas as pd

    from research.data import list_datasets

    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(list_datasets().to_string())
    return 0


def _describe(args: argparse.Namespace) -> int:
    import pandas as pd

    from research.data import load_prices, quality_report

    report = quality_report(load_prices(args.source))
    print(report)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(report.to_frame().to_string())
        if len(report.issues):
            print(report.issues.to_string(index=False))
    return 0


def _reports(args: argparse.Namespace) -> int:
    from research.reporting import build_reports

    parameters: dict[str, object] = {"fast": args.fast, "seed": args.seed}
    if args.data:
        parameters["data_path"] = str(args.data)
    reports = build_reports(
        args.notebooks, args.out, parameters=parameters, studies=args.study, force=args.force
    )
    total = sum(r.seconds for r in reports)
    print(f"{len(reports)} report(s) written to {args.out} in {total:.0f} s")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from research._io import check_output_file
    from research.calibration import calibrate_from_config
    from research.calibration.config import CalibrationConfig

    config = CalibrationConfig.from_yaml(args.config)
    out = check_output_file(args.out, force=args.force)
    params = calibrate_from_config(config, data=args.data).parameters
    print(params)
    params.to_json(out, overwrite=args.force)
    print(f"parameters {params.fingerprint} (sha256 {params.fingerprint_full}) written to {out}")
    return 0


def _review(args: argparse.Namespace) -> int:
    from research.reporting.review import build_review

    review = build_review(
        args.config,
        args.out,
        notebooks=args.notebooks,
        data=args.data,
        baseline=args.baseline,
        fast=True if args.fast else None,
        html=not args.no_html,
        force=args.force,
    )
    print(
        f"review written to {review.pdf} ({len(review.notebooks)} studies; calibration profile "
        f"{review.memo.profile or 'not recorded'})"
    )
    return 0


_FOLDER_HELP = (
    "report folder (default: reports). It holds the files of one complete run: a run writes "
    "into a staging folder and, only when it succeeded, replaces the previous run's files "
    "(listed in run-manifest.json) as a whole; a failed run leaves them untouched"
)
_FOLDER_FORCE_HELP = (
    "also replace files of the run's names that the previous run did not write (not listed, "
    "or changed since); without it such files stop the run before it starts. Replacing the "
    "previous run needs no --force"
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``research`` command."""
    parser = argparse.ArgumentParser(
        prog="research",
        description="Stressed correlations, margin calibration and cross-margin offset backtests.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of any error (by default errors print as one line)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    datasets = commands.add_parser("datasets", help="list the bundled datasets")
    datasets.set_defaults(func=_datasets)

    data = commands.add_parser("data", help="inspect price data")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    describe = data_commands.add_parser("describe", help="print the data-quality report")
    describe.add_argument("source", help="a bundled dataset name or a CSV/Parquet price file")
    describe.set_defaults(func=_describe)

    reports = commands.add_parser("reports", help="run the study notebooks and write PDFs")
    reports.add_argument("--data", help="price file to use instead of the bundled data")
    reports.add_argument("--fast", action="store_true", help="reduced sample (for CI)")
    reports.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    reports.add_argument("--out", default="reports", help=_FOLDER_HELP)
    reports.add_argument("--notebooks", default="notebooks", help="study folder")
    reports.add_argument("--study", action="append", help="only this study (NN or NN_name)")
    reports.add_argument("--force", action="store_true", help=_FOLDER_FORCE_HELP)
    reports.set_defaults(func=_reports)

    calibrate = commands.add_parser("calibrate", help="calibrate a margin parameter set")
    calibrate.add_argument("config", help="calibration config (YAML), e.g. configs/default.yaml")
    calibrate.add_argument("--data", help="price file or dataset replacing the config's data")
    calibrate.add_argument(
        "--out",
        default="params.json",
        help="parameter file to write (JSON; default: params.json); its folder must exist and "
        "an existing file is kept unless --force",
    )
    calibrate.add_argument(
        "--force", action="store_true", help="replace the --out file if it exists"
    )
    calibrate.set_defaults(func=_calibrate)

    review = commands.add_parser("review", help="build the consolidated calibration review PDF")
    review.add_argument("config", help="review config (YAML), e.g. configs/review.yaml")
    review.add_argument("--data", help="price file overriding the config's data")
    review.add_argument("--out", default="reports", help=_FOLDER_HELP)
    review.add_argument(
        "--baseline",
        help="current parameter set (JSON or YAML) the proposal is compared with; overrides "
        "the review config's baseline (none: a first calibration)",
    )
    review.add_argument("--fast", action="store_true", help="reduced samples (for CI)")
    review.add_argument("--no-html", action="store_true", help="skip the HTML rendering")
    review.add_argument("--notebooks", default="notebooks", help="study folder")
    review.add_argument("--force", action="store_true", help=_FOLDER_FORCE_HELP)
    review.set_defaults(func=_review)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``research`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success; 2 for a user error (an error of the package, a file that
        cannot be read or written: one line, no traceback) and for a usage error; 1 for an
        unexpected error (one line naming it; ``--debug`` re-raises every error with its
        traceback).
    """
    from research.errors import ResearchError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ResearchError, OSError) as exc:
        if args.debug:
            raise
        print(f"research: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"research: internal error: {type(exc).__name__}: {_one_line(exc)} (a bug, not "
            "a problem with your input: rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())
