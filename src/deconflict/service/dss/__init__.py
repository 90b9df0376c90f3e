"""The ASTM F3548-21 DSS API (utm.yaml 1.0.0, its 18 DSS operations) under ``/dss/v1``, on the
service's store: wire shapes here, workflows in ``deconflict.workflows.dss``."""
