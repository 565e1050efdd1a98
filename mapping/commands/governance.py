"""``mapping governance``: check the governance records, or render the board-pack report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapping.commands.common import add_out_dir
from mapping.config import output_dir
from mapping.files import write_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mapping governance check`` and ``mapping governance report`` to the CLI."""
    parser = subparsers.add_parser(
        "governance",
        help="check the governance records or render the governance report",
        description="Governance as code: the ethics review record, the decision log and the "
        "registers in governance/, checked against their schemas and the indicator registry.",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check_p = sub.add_parser(
        "check",
        help="validate every record (schema, links, approved sources, review dates, conditions)",
        description="Validate the records in governance/ and print every problem with its file "
        "and field. Exit status 1 if any problem is found.",
    )
    _add_root(check_p)
    check_p.set_defaults(func=run_check)
    report_p = sub.add_parser(
        "report",
        help="render one self-contained, printable HTML report for a board pack",
        description="Render the records as one HTML page with a table of contents. The page "
        "lists any problems the check finds.",
    )
    _add_root(report_p)
    add_out_dir(report_p)
    report_p.add_argument(
        "--out", metavar="FILE",
        help="where to write the report (default: <out-dir>/governance/report.html)",
    )
    report_p.set_defaults(func=run_report)


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", metavar="DIR", default=".",
        help="repository root holding governance/ and tests/ (default: the current folder)",
    )


def _load_registry():
    from mapping.registry import load_registry

    return load_registry()


def run_check(args: argparse.Namespace) -> int:
    """Run the check; print problems to stderr; return 1 if there are any, else 0."""
    from mapping.governance import check

    problems = check(Path(args.root), _load_registry())
    if problems:
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(f"mapping governance check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("mapping governance check: no problems")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Write the report atomically; return 0 (problems are shown in the report and on stderr)."""
    from mapping.governance import check, render_report

    root = Path(args.root)
    registry = _load_registry()
    problems = check(root, registry)
    html = render_report(root, registry, problems=problems)
    out = Path(args.out) if args.out else output_dir(args.out_dir) / "governance" / "report.html"
    write_text(out, html)
    print(f"wrote {out}")
    if problems:
        print(f"mapping governance report: the check found {len(problems)} problem(s); "
              "they are listed in the report", file=sys.stderr)
    return 0
