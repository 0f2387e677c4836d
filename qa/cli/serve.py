"""``qa serve``: the search and answer API over HTTP (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
import threading

from corpus.errors import QAError
from qa.cli.options import add_index, open_assistant

# The server's limits (qa/server/connections.py applies them; defined here so that building the
# parser does not import uvicorn).
MAX_CONNECTIONS = 64     # connections open at once; one more is answered 503 and closed
REQUEST_TIMEOUT = 10.0   # seconds a client has to send a whole request, headers and body


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "serve", help="serve search and answers over HTTP",
        description="Serve /health, /search, /ask and /articles/{id} over HTTP, with the "
        "OpenAPI schema at /openapi.json and docs at /docs. Binds to loopback unless told "
        "otherwise. Ctrl-C (or SIGTERM) stops it.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port (default 8000; 0 picks a free one and prints it)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="threads answering requests (default 1, one request at a time; "
                        "more only with an assistant that is safe to share between threads)")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
                        help=f"connections open at once (default {MAX_CONNECTIONS}); one more "
                        "is answered 503 and closed")
    parser.add_argument("--request-timeout", type=float, default=REQUEST_TIMEOUT, metavar="S",
                        help=f"seconds a client has to send a whole request (default "
                        f"{REQUEST_TIMEOUT:g}); a slower one is disconnected")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    add_index(parser)
    parser.set_defaults(run=run)
    return parser


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def say(message: str) -> None:
    print(f"qa serve: {message}", file=sys.stderr, flush=True)


def check(args: argparse.Namespace) -> None:
    """A one-line UsageError for a value out of range."""
    from qa.errors import UsageError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port: give 1-65535 (or 0 for any free)")
    if not 1 <= args.workers <= 16:
        raise UsageError(f"--workers {args.workers}: give 1 to 16")
    if not 1 <= args.max_connections <= 10_000:
        raise UsageError(f"--max-connections {args.max_connections}: give 1 to 10000")
    if not 0.1 <= args.request_timeout <= 3600:
        raise UsageError(f"--request-timeout {args.request_timeout:g}: give 0.1 to 3600 seconds")


def run(args: argparse.Namespace) -> int:
    check(args)
    import uvicorn

    from qa.server import create_app
    from qa.server.connections import server_limits

    class Server(uvicorn.Server):
        """Stops on SIGINT/SIGTERM and returns (uvicorn would re-raise the signal)."""

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            sigs = (signal.SIGINT, signal.SIGTERM)
            previous = {s: signal.signal(s, self.handle_exit) for s in sigs}
            try:
                yield
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.should_exit:  # could not bind: uvicorn has logged why
                return
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            where = ("this machine only" if is_loopback(args.host) else
                     "REACHABLE FROM THE NETWORK, with no authentication")
            say(f"serving {info.articles} articles on http://{shown}:{port} ({where}); "
                "docs at /docs; Ctrl-C stops")

    assistant = open_assistant(args)
    try:
        info = assistant.info()
        if not is_loopback(args.host):
            say(f"warning: listening on {args.host}, not loopback: anyone who can reach this "
                "machine can query the index")
        say(f"loading the model for {info.path}...")
        assistant.warm_up()  # here, not in the app's lifespan: a model error is one clean line
        app = create_app(assistant, warm_up=False, workers=args.workers)
        config = uvicorn.Config(app, host=args.host, port=args.port,
                                log_level="info" if args.access_log else "warning",
                                access_log=args.access_log, lifespan="on",
                                timeout_graceful_shutdown=10,
                                **server_limits(request_timeout=args.request_timeout,
                                                max_connections=args.max_connections))
        server = Server(config)
        server.run()
    finally:
        assistant.close()
    if not server.started:
        raise ServeError(f"could not serve on {args.host}:{args.port}: see the error above")
    say("stopped")
    return 0


class ServeError(QAError):
    """The server did not start."""
