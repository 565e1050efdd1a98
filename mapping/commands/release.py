"""``mapping release``: publish a build as a versioned, never-overwritten release."""

from __future__ import annotations

import argparse

from mapping.commands.common import add_wait
from mapping.pipeline.release import publish_release, releases_dir, verify_release


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "release",
        help="publish a build as a versioned release under data/releases/vX.Y.Z",
        description="Copy a build (its manifest and every output, hashes checked) into "
        "RELEASES/vX.Y.Z/processed with a Frictionless data package descriptor "
        "(datapackage.json: field descriptions, licences, sources and attributions), a "
        "change-log entry (RELEASE.md, and the cumulative RELEASES/CHANGELOG.md) and a "
        "release record. Written in a staging folder and renamed into place; an existing "
        "release is never overwritten. Serve a release with "
        "`mapping serve --out-dir RELEASES/vX.Y.Z`.",
    )
    p.add_argument("--version", required=True, metavar="X.Y.Z",
                   help="semantic version of the release, e.g. 1.2.0 (no leading v)")
    p.add_argument("--notes", required=True,
                   help="what changed and why (goes into the change log)")
    p.add_argument("--from", dest="source", metavar="DIR",
                   help="the build to publish (default: $MAPPING_OUTPUT_DIR/processed or "
                   "data/processed)")
    p.add_argument("--out", metavar="DIR",
                   help="the releases folder (default: $MAPPING_OUTPUT_DIR/releases or "
                   "data/releases)")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="release date (default: $SOURCE_DATE_EPOCH, else today, UTC)")
    add_wait(p, "releasing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = publish_release(args.version, args.notes, processed=args.source,
                           releases=releases_dir(args.out), day=args.date,
                           lock_wait_s=args.wait)
    problems = verify_release(path)
    for problem in problems:
        print(f"warning: {problem}")
    print(f"released v{args.version} at {path}")
    print(f"serve it with: mapping serve --out-dir {path}")
    return 1 if problems else 0
