"""An app module whose own import fails (a missing dependency)."""

import no_such_dependency_abc  # noqa: F401

app = None
