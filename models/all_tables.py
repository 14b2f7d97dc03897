"""Every table of every domain registered on the metadata (for Alembic and tests)."""

from sqlmodel import SQLModel

import models  # noqa: F401  (the platform's tables)
import models.change_control  # noqa: F401
import models.performance  # noqa: F401
import models.planning  # noqa: F401

metadata = SQLModel.metadata
