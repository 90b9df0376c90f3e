"""strategic room: operations as 4D volumes, conflicts with buffers, awareness, need-to-know.

Pure kernels (no database, no web); degrees, ft/FL and UTC at the edge, SI inside.

- ``model``: ``Volume4D``, ``Operation``, ``Altitude``, ``Circle``, ``Buffers``;
  ``parse_operation`` / ``parse_volume`` raise ``InputError`` naming every problem.
- ``states``: ``OperationState``, ``TRANSITIONS``, ``check_transition``
  (``IllegalTransitionError``), ``requires_awareness``.
- ``validate``: the geometry rules and limits (vertex cap, size cap, winding, antimeridian).
- ``frames``: the tangent-plane frames volumes are compared in.
- ``volumes``: volumes as arrays and the exact pairwise test.
- ``index``: ``OperationIndex`` (add / remove / replace / query) and ``brute_force_conflicts``.
- ``rules``: ``ConflictRule`` (reject | accept-by-priority), ``check_awareness``, ``decide``,
  ``evaluate`` → ``Decision`` (``MissingAwarenessError``, ``ConflictRejectedError``: HTTP 409).
- ``need_to_know``: ``intersection_view`` → ``OperationView``, ``visible_operations``,
  ``missing_views`` (the body of a 409 for missing tokens).
- ``constraints``: restricted / no-fly areas (GeoJSON, ``traffic`` airspaces), ``check_operation``,
  ``ConstraintRule``, ``area_proximity`` (tracks predicted to enter within 2 minutes).

A write, as the store should run it in one transaction::

    draft = OperationDraft.model_validate(body)        # 4xx naming each problem
    op = build_operation(draft, op_id, party, previous)  # IllegalTransitionError: 409
    decision = evaluate(op, index, rule, presented_tokens)  # index of live operations
    decision.raise_if_refused()  # 409: missing/stale tokens (body: missing_views), or the rule
    refused = ConstraintRule().rejects(check_operation(op, constraint_set))  # no-fly: reject
    index.replace(op)  # commit; then notify decision.notify (and flag constraint hits)
"""
