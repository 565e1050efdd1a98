"""Options shared by several verbs."""

from __future__ import annotations

import argparse


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the open data package (default: $MAPPING_DATA_DIR or ../shared/data)",
    )


def add_out_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out-dir",
        metavar="DIR",
        help="where builds are written (default: $MAPPING_OUTPUT_DIR or ./data)",
    )
