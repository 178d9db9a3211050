"""Go standard-library behaviour that Istio's and Kubernetes' checks and messages depend on.

Istio and the Kubernetes API server are Go programs: what they accept and the error texts they
print come from Go's ``strconv``, ``time``, ``net/url`` and ``net/netip``. This package holds the
one Python implementation of each Go function istiolint needs; the admission checks
(:mod:`istiolint.admission`) and the CEL library (:mod:`istiolint.cel`) both use it.

Conventions:

* A Go string is a byte sequence. A Python ``str`` taken from a document stands for the string
  Go's decoder would have produced (see :func:`istiolint.golang.text.go_bytes`); functions that
  can meet arbitrary bytes (unescaped URL parts) work on ``bytes``.
* A failure is raised as :class:`istiolint.golang.errors.GoError`, whose ``str()`` is exactly
  what Go's ``err.Error()`` returns.

Modules: :mod:`~istiolint.golang.text` (Go's view of a string), :mod:`~istiolint.golang.errors`
(``GoError`` and the go-multierror list format), :mod:`~istiolint.golang.strconv` (quoting,
integer and boolean parsing), :mod:`~istiolint.golang.durations` (``time.ParseDuration``),
:mod:`~istiolint.golang.netip` (``netip.ParseAddr`` / ``ParsePrefix``) and
:mod:`~istiolint.golang.urls` (``url.Parse`` / ``url.ParseRequestURI``).
"""
