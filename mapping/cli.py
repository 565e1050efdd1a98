"""The ``mapping`` command line: ``mapping --help`` lists the verbs.

Each verb lives in its own module with a ``register(subparsers)`` function that adds its
parser and sets ``func``; this file only lists them, so adding a verb is one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mapping.config import ConfigError
from mapping.errors import MappingError

VERB_MODULES = [
    "mapping.commands.build",
    "mapping.commands.validate",
    "mapping.commands.serve",
    "mapping.commands.deploy",
    "mapping.commands.export",
    "mapping.commands.governance",
    "mapping.commands.index",
    "mapping.commands.release",
    "mapping.commands.pack",
]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapping",
        description="London digital exclusion map: build the data, the index, maps and the app.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (MappingError, ConfigError) as exc:
        print(f"mapping {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mapping {args.verb}: interrupted", file=sys.stderr)
        return 130
