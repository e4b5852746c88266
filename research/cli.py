"""The ``research`` command: a thin argparse layer over library functions."""

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

    from research.data import load_prices

    report = load_prices(args.source).attrs["quality"]
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
    reports = build_reports(args.notebooks, args.out, parameters=parameters, studies=args.study)
    total = sum(r.seconds for r in reports)
    print(f"{len(reports)} report(s) written to {args.out} in {total:.0f} s")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from research.calibration import calibrate_from_config

    result = calibrate_from_config(args.config, data=args.data)
    print(result.parameters)
    result.parameters.to_json(args.out)
    print(f"parameters written to {args.out}")
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
    )
    print(f"review written to {review.pdf} with {len(review.study_pdfs)} study report(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``research`` command."""
    parser = argparse.ArgumentParser(
        prog="research",
        description="Stressed correlations, margin calibration and cross-margin offset backtests.",
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
    reports.add_argument("--out", default="reports", help="report folder (default: reports)")
    reports.add_argument("--notebooks", default="notebooks", help="study folder")
    reports.add_argument("--study", action="append", help="only this study (NN or NN_name)")
    reports.set_defaults(func=_reports)

    calibrate = commands.add_parser("calibrate", help="calibrate a margin parameter set")
    calibrate.add_argument("config", help="calibration config (YAML), e.g. configs/default.yaml")
    calibrate.add_argument("--data", help="price file or dataset replacing the config's data")
    calibrate.add_argument("--out", default="params.json", help="parameter file to write (JSON)")
    calibrate.set_defaults(func=_calibrate)

    review = commands.add_parser("review", help="build the consolidated calibration review PDF")
    review.add_argument("config", help="review config (YAML), e.g. configs/review.yaml")
    review.add_argument("--data", help="price file overriding the config's data")
    review.add_argument("--out", default="reports", help="report folder (default: reports)")
    review.add_argument("--baseline", help="previous parameter set (JSON) to compare against")
    review.add_argument("--fast", action="store_true", help="reduced samples (for CI)")
    review.add_argument("--no-html", action="store_true", help="skip the HTML rendering")
    review.add_argument("--notebooks", default="notebooks", help="study folder")
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
        Exit status.
    """
    from research.errors import ResearchError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ResearchError, FileNotFoundError) as exc:
        print(f"research: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
