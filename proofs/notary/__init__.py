"""Notary quorum rules (pure): ECDSA m-of-n certificates as the EVM bridge, the Pujiang
bridge module and Wormhole's guardians check them, a BLS-aggregate quorum, and
equivocation evidence. See ``docs/notary.md``."""
