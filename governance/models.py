"""The models of the ``governance`` app label, defined in its sub-packages (the tables kept their label when the
code moved): imported here so that Django finds them."""

from governance.access.models import REGION_ROLES, ROLE_ACTIONS, UNIT_ROLES, Role, RoleAssignment, Unit, UnitKind
from governance.alerts.models import Alert, AlertRead
from governance.calendar.models import CalendarDay, CalendarDayKind

__all__ = ["REGION_ROLES", "ROLE_ACTIONS", "UNIT_ROLES", "Alert", "AlertRead", "CalendarDay", "CalendarDayKind", "Role",
           "RoleAssignment", "Unit", "UnitKind"]
