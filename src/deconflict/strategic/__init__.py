"""strategic room: operations as 4D volumes, conflicts with buffers, awareness, need-to-know.

Pure kernels (no database, no web); degrees, ft/FL and UTC at the edge, SI inside.

- ``model``: ``Volume4D``, ``Operation``, ``Altitude``, ``Circle``, ``Buffers``;
  ``parse_operation`` / ``parse_volume`` raise ``InputError`` naming every problem.
- ``states``: ``OperationState``, ``TRANSITIONS``, ``check_transition``
  (``IllegalTransitionError``).
- ``validate``: the geometry rules and limits (vertex cap, size cap, winding, antimeridian).
- ``frames``: the tangent-plane frames volumes are compared in.
- ``volumes``: volumes as arrays and the exact pairwise test.
- ``index``: ``OperationIndex`` (add / remove / replace / query) and ``brute_force_conflicts``.
"""
