"""The relayer's and the API's checks on a transfer (``core.holds``): payload policies."""
