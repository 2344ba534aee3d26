"""Back-ends of the ``core.seams.Signer`` seam: where every key of the hub and the notaries lives.

``local.py`` (a key held in memory, from a keystore file or, for development
only, a plaintext file), ``keystore_files.py`` (the encrypted keystore formats,
shared with ``gateway.keystore``), ``pkcs11.py`` (PKCS#11 tokens: HSMs, SoftHSM2),
``ecdsa_form.py`` (an HSM's raw ECDSA signature turned into r ‖ s ‖ v) and
``refs.py`` (a signer named in a chains file or on a command line).

They live under ``adapters/`` because the relayer and the notary, sibling
layers, both need them and neither may import the gateway.
"""

from adapters.signers.local import LocalSigner
from adapters.signers.refs import open_signer

__all__ = ["LocalSigner", "open_signer"]
