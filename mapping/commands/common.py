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


def add_allow_outside_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-outside-sources",
        action="store_true",
        help="read the [[source]] files of an --indicators registry file even when they lie "
        "(links resolved) outside that file's folder and the data directory",
    )


def add_wait(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--wait",
        metavar="SECONDS",
        type=float,
        default=0.0,
        help=f"if another build or release is writing to the same output folder, wait up to "
        f"SECONDS for it to finish before {what} (default 0: fail at once, naming it)",
    )


def hash_notes(record: dict) -> list[str]:
    """Notes on the input hashes a build or validation found (``check_inputs`` record): files
    that differ from the hash in the registry, and an analyst's sources with no hash declared."""
    changed = [k for k, v in record.items()
               if not v["matches_registry"] and v.get("hash_declared", True)]
    undeclared = [k for k, v in record.items() if not v.get("hash_declared", True)]
    notes = []
    if changed:
        notes.append("note: these inputs differ from the hashes in the registry (data "
                     "refreshed?): " + ", ".join(changed))
    if undeclared:
        notes.append("note: no sha256 is declared for these sources of your registry file, so "
                      "a later change to the file would go unnoticed; to pin the file read now, "
                      "add the line to its [[source]] table:")
        notes += [f'  {sid}: sha256 = "{record[sid]["sha256"]}"' for sid in undeclared]
    return notes
