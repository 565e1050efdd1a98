"""``mapping deploy nginx``: print the reverse-proxy configuration for a production set-up."""

from __future__ import annotations

import argparse

from mapping.app.deploy import ProxySettings, nginx_config
from mapping.files import write_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="write deployment configuration (nginx reverse proxy)",
                       description="Write the nginx configuration for running the app behind a "
                       "reverse proxy; see deploy/README.md.")
    dsub = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    n = dsub.add_parser("nginx", help="an nginx server block proxying to the app processes",
                        description="An nginx server block with websocket proxying, sticky "
                        "upstreams, security headers and no admin endpoints.")
    n.add_argument("--listen", default="80", help="nginx listen directive (default 80)")
    n.add_argument("--server-name", default="_", help="server_name (default _)")
    n.add_argument("--app-port", type=int, action="append", default=[], metavar="PORT",
                   help="port of a `mapping serve` process; repeat for several (default 5006)")
    n.add_argument("--cache-dir", default="/var/cache/nginx/mapping", metavar="DIR",
                   help="where nginx keeps its copy of the static files (default "
                   "/var/cache/nginx/mapping)")
    n.add_argument("--standalone-prefix", metavar="DIR",
                   help="write a whole nginx.conf using DIR for pid, logs and temp files")
    n.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    n.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = ProxySettings(listen=args.listen, server_name=args.server_name,
                             app_ports=tuple(args.app_port or [5006]),
                             cache_dir=args.cache_dir)
    text = nginx_config(settings, args.standalone_prefix)
    if args.out:
        write_text(args.out, text)
    else:
        print(text, end="")
    return 0
