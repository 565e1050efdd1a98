"""``mapping serve``: serve the Panel app from pre-built outputs, with production-safe defaults."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mapping.app.assets import ASSET_ROUTE, CLIENT_DIR, CLIENT_ROUTE, Assets, ensure_assets
from mapping.commands.common import add_out_dir
from mapping.config import PROCESSED, output_dir
from mapping.errors import MappingError
from mapping.outputs import load_outputs, manifest_digest

APP = Path(__file__).resolve().parent.parent / "app" / "main.py"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the map app (panel serve) from the built outputs",
        description="Serve the Panel app on the outputs of `mapping build` (nothing is rebuilt "
        "per session). No autoreload or dev mode; websocket origins are explicit; the "
        "websocket message size is bounded.",
    )
    add_out_dir(p)
    p.add_argument("--address", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    p.add_argument("--allow-websocket-origin", action="append", default=[], metavar="HOST[:PORT]",
                   help="origin allowed to open the websocket; repeatable (default: the "
                   "address and port served)")
    p.add_argument("--num-procs", type=int, default=1, help="server processes (default 1)")
    p.add_argument("--basic-auth", metavar="FILE_OR_CREDENTIALS",
                   help="Panel basic auth: a password, or a JSON file of user: password")
    p.add_argument("--cookie-secret", help="cookie secret (needed with --basic-auth)")
    p.add_argument("--max-message-mb", type=int, default=20,
                   help="websocket max message size in MB (default 20)")
    p.add_argument("--show", action="store_true", help="open a browser")
    p.set_defaults(func=run)


def command(args: argparse.Namespace, assets: Assets | None = None) -> list[str]:
    """The ``panel serve`` command line for these options (``assets``: the build's static
    assets: its folder is served beside the map's client code, and its front page, the static
    page of the index, is the page at ``/``; the full app is at ``/main``)."""
    origins = args.allow_websocket_origin or [f"{args.address}:{args.port}",
                                              f"localhost:{args.port}"]
    cmd = [sys.executable, "-m", "panel", "serve", str(APP), "--address", args.address,
           "--port", str(args.port), "--num-procs", str(args.num_procs),
           "--websocket-max-message-size", str(args.max_message_mb * 1024 * 1024)]
    if assets is not None:
        cmd += ["--index", str(assets.front_path), "--disable-index-redirect",
                "--static-dirs", f"{ASSET_ROUTE}={assets.folder}", f"{CLIENT_ROUTE}={CLIENT_DIR}"]
    else:
        cmd += ["--index", "main"]
    for origin in origins:
        cmd += ["--allow-websocket-origin", origin]
    if args.basic_auth:
        cmd += ["--basic-auth", args.basic_auth]
    if args.cookie_secret:
        cmd += ["--cookie-secret", args.cookie_secret]
    if args.show:
        cmd.append("--show")
    return cmd


def run(args: argparse.Namespace) -> int:
    processed = output_dir(args.out_dir) / PROCESSED
    if not (processed / "manifest.json").exists():
        raise MappingError(f"no build found in {processed}: run `mapping build` first")
    load_outputs(processed, verify=True)  # refuse a damaged or edited build before serving it
    assets = ensure_assets(processed)  # the map data and front page, made once per build
    # every asset (BokehJS, Panel's extensions and stylesheets) from this server, never a CDN,
    # whatever the environment says: the app must work offline and make no third-party request
    env = {**os.environ, "MAPPING_PROCESSED_DIR": str(processed), "BOKEH_RESOURCES": "server",
           "MAPPING_VERIFIED_MANIFEST": manifest_digest(processed)}
    print(f"serving http://{args.address}:{args.port}/ (the index; the full tool at /main) "
          f"from {processed}", flush=True)
    cmd = command(args, assets)
    # replace this process with the server: one process to signal and to stop, no orphans
    os.execve(cmd[0], cmd, env)
