"""blind room: the party side of the blind check (no units beyond the cells' own).

A party that will not show its operations to anyone checks them against another party's by
private set intersection over the space-time cells of ``strategic.cells``, through the host as a
relay that sees only ciphertexts and hashes.

- ``psi``: ECDH private set intersection (OpenMined's ``openmined-psi``), both roles.
- ``channel``: the end-to-end encrypted channel for the parts exchanged after the intersection
  (X25519, HKDF-SHA256, ChaCha20-Poly1305), its keys signed with the parties' Ed25519 keys.
- ``protocol``: commitments, the relayed envelopes (what the host sees and checks), the signed
  outcome of a check.
- ``node``: the party's node: its operations, the checks it runs and answers (no network).
- ``agent``: the node on a host's HTTP API (``deconflict agent``).
"""
