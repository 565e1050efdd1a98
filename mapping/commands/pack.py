"""``mapping pack``: a printable borough pack for a committee paper (one self-contained page)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pack", help="write a printable borough pack (one self-contained HTML page)",
        description="Write one self-contained HTML page for a borough: the map as inline SVG "
        "with a legend, the index in words, the areas most at risk with their need types and "
        "support gap, the method and its validity figures, caveats, data vintages, "
        "attributions and the ethics review status. Prints to A4 from a browser.")
    p.add_argument("--processed-dir", metavar="DIR",
                   help="the build to use (default: $MAPPING_PROCESSED_DIR or ./data/processed)")
    p.add_argument("--borough", required=True, help="borough name or code (e.g. Camden)")
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument("--walk-m", type=float, default=None,
                   help="walking distance for the support gap, metres, straight line "
                   "(default: the need table's, 800)")
    p.add_argument("--top", type=int, default=10, help="how many areas to list (default 10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.files import write_bytes  # noqa: PLC0415
    from mapping.maps.pack import borough_pack  # noqa: PLC0415 (fast --help)
    from mapping.outputs.readmodel import ReadModel  # noqa: PLC0415

    model = ReadModel.open(args.processed_dir)
    page = borough_pack(model, args.borough, walk_m=args.walk_m, top=args.top)
    out = Path(args.out)
    write_bytes(out, page.encode("utf-8"))
    print(f"wrote {out} ({len(page.encode('utf-8')) / 1e6:.2f} MB)")
    return 0
