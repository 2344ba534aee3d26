"""HTLC swap rules (pure): timelock arithmetic, preimages, swap states, what the
watchtower may do. See ``docs/htlc.md``."""
