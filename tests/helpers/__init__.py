"""Shared test helpers: float64 references (``reference``, ``family``), the
dtype-aware comparison (``reference.assert_matches``), running a case in a
fresh interpreter (``isolated``), float64 on demand (``x64``) and
pre-poisoned output buffers (``poisoned``)."""
