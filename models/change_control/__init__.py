"""Project change control's tables: projects, their people and stages, RFCs."""

from models.change_control.projects import Project, ProjectMember, Stage
from models.change_control.rfcs import Classification, Rfc, RfcStatus

__all__ = ["Classification", "Project", "ProjectMember", "Rfc", "RfcStatus", "Stage"]
