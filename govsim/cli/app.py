"""``govsim app``: the classroom web page, for rooms where students have a browser but no Python.

    govsim app                              # http://127.0.0.1:8765 on this machine
    govsim app --host 0.0.0.0 --port 8765   # students open http://THIS-MACHINE:8765

Needs ``pip install "govsim[classroom]"`` (Solara); see ``docs/classroom.md``.
"""

from __future__ import annotations

import argparse
import socket


def _address(host: str) -> str:
    """An address students can type for ``host`` (0.0.0.0: this machine's address on the
    network, found without sending anything)."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # a documentation address: UDP connect sends no packet
            return str(s.getsockname()[0])
    except OSError:
        return socket.gethostname()


def cmd_app(args: argparse.Namespace) -> int:
    from govsim.experiments import ExperimentError
    from govsim.widgets import ControlError, Controls, check_controls

    try:  # the page's first values: a mistake here is the instructor's, said before serving
        check_controls(Controls(preset=args.preset, horizon=args.horizon, replications=args.replications,
                                lang=args.lang))
    except ControlError as err:
        raise ExperimentError(f"--{err}") from None
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host, args.port))
        except OSError as err:
            raise ExperimentError(f"--host {args.host} --port {args.port}: cannot serve there "
                                  f"({err.strerror or err}); choose another --port") from None
    from govsim.app import serve

    print(f"govsim classroom page: http://{_address(args.host)}:{args.port}  (Ctrl-C stops it)", flush=True)
    if args.host in ("127.0.0.1", "localhost", "::1"):
        print("only this machine can open it; for a classroom: govsim app --host 0.0.0.0", flush=True)
    serve(args.host, args.port, workers=args.workers, preset=args.preset, horizon=args.horizon,
          replications=args.replications, lang=args.lang)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from govsim.cli import whole_number

    positive = whole_number(1)

    p = sub.add_parser("app", help="serve the classroom web page: presets, sliders, a run button, the "
                                   "comparison table and figures (needs govsim[classroom])",
                       description="Serve the classroom explorer as a web page: students open "
                                   "http://HOST:PORT in a browser, no Python needed.")
    p.add_argument("--port", type=whole_number(1, 65535, "a port number from 1 to 65535"), default=8765, help="port to serve on (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: "
                        "every network of this machine, for a classroom)")
    p.add_argument("--workers", type=positive, default=None, metavar="J",
                   help="worker processes for the students' runs (default: all cores)")
    p.add_argument("--preset", default="traditional_patrol",
                   help="preset shown first (default traditional_patrol)")
    p.add_argument("--horizon", default="3d", metavar="DURATION",
                   help="simulated time of a run, shown first (default 3d; at most 14d)")
    p.add_argument("-n", "--replications", type=positive, default=3, metavar="N",
                   help="paired replications of a run, shown first (default 3; at most 10)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="label language shown first")
    p.set_defaults(func=cmd_app)
