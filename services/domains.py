"""The one module that imports every domain: each registers its subjects with the platform.

services.platform.subjects loads this the first time it is asked about a subject, so the
platform never imports a domain by name. A new domain adds its `subject` module here (and
performance its intake of indicators and computed figures, services.platform.monitoring).
"""

import services.change_control.chasing  # noqa: F401
import services.change_control.subject  # noqa: F401
import services.performance.chasing  # noqa: F401
import services.performance.intake  # noqa: F401
import services.performance.subject  # noqa: F401
import services.planning.subject  # noqa: F401
