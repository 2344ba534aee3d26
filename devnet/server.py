"""Serve a devnet node over HTTP (uvicorn) until SIGINT or SIGTERM.

The node is opened first (genesis on a new data directory, block 1 at once),
its block timer started, then the API served; on a signal uvicorn finishes the
requests in flight and the node stops its timer and closes its store, so a
block is either fully stored or not at all even when killed harder.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn
from prometheus_client.exposition import start_http_server
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.http_server import HeadDeadline, ServerLimits
from core.logs import configure_logging, log_format
from core.runtime import bound_recursion
from devnet.api import create_app
from devnet.config import NodeConfig
from devnet.metrics import node_registry
from devnet.node import DevnetNode

log = logging.getLogger("pjgw.devnet")


class _Protocol(HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head (``core.http_server``)."""


class _Server(uvicorn.Server):
    """uvicorn, minus re-raising SIGINT/SIGTERM after its graceful shutdown.

    uvicorn re-raises the signal once it has stopped serving, which would end
    the process before the node closes its store; here a signal is a normal
    stop (exit status 0) and ``serve`` closes the node first.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve(
    config: NodeConfig,
    host: str,
    port: int,
    log_level: str = "info",
    *,
    metrics_port: int = 0,
) -> None:
    """Serve the node; ``metrics_port`` (not 0): Prometheus metrics there, on ``host``."""
    configure_logging(log_level)  # PJGW_LOG_FORMAT=json: JSON lines (core.logs)
    node = DevnetNode(config)
    metrics_server = None
    try:
        app = create_app(node)
        node.start()
        if metrics_port:
            metrics_server, _ = start_http_server(
                metrics_port, addr=host, registry=node_registry(node)
            )
        mode = (
            "instant (a block per transaction, POST /v1/blocks)"
            if config.instant
            else f"a block every {config.block_time}s"
        )
        log.info(
            "devnet %s at height %d on http://%s:%d (%s; %d validators; data in %s)",
            node.genesis.chain_id,
            node.height,
            host,
            port,
            mode,
            len(node.validators(node.height)),
            config.data_dir,
        )
        server = _Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning" if log_level.lower() != "debug" else "debug",
                log_config=None if log_format() == "json" else LOGGING_CONFIG,
                access_log=False,
                timeout_graceful_shutdown=5,
                # 512 connections, 5 s idle keep-alive, 32 KiB request heads
                **ServerLimits(head_seconds=config.request_seconds).uvicorn_options(_Protocol),  # type: ignore[arg-type]
            )
        )
        bound_recursion()  # after every import of the node: py_ecc raises it at import
        server.run()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        node.close()
        log.info("devnet %s stopped at height %d", node.genesis.chain_id, node.height)
