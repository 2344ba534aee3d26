"""Route protocols by ``RouteRecord.protocol``: ``notary`` now; ``htlc`` and ``light_client``
arrive as modules beside it, registered in ``relayer.engine.PROTOCOLS``."""
