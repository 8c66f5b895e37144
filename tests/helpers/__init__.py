"""Shared test helpers: the float64 reference of every surrogate
(``family``), the comparison against it (``reference.assert_matches``, with
``peak`` and ``heaviside``), running Python in a fresh interpreter
(``isolated.run_python``), float64 on demand (``x64.enable_x64``),
pre-poisoned output buffers (``poisoned``) and Triton kernels compiled for
sm_90 without a GPU (``triton_ptx``)."""
