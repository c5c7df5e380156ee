"""Which pages each role may open: the menu shows these, and each page's dependency enforces
the same roles (the API's, where the API has the page's data)."""

from __future__ import annotations

from hotline.engine.access import Principal, Role

# As the API: tickets are read by these roles and acted on by the first three; the
# complainant's contact is revealed only to operators and units (条例 Art. 8).
TICKET_READERS = (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.AUDITOR)
TICKET_ACTORS = (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR)
CONTACT_READERS = (Role.OPERATOR, Role.UNIT)
# As the API's reports (leaders) and access log (auditors, admins); operations as `hotline
# status`: those who run the centre.
DASHBOARD = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
OPERATIONS = (Role.SUPERVISOR, Role.ADMIN)
AUDIT = (Role.AUDITOR, Role.ADMIN)
DEFINITIONS = tuple(Role)
DRAFTS = (Role.ADMIN,)
PLANNERS = (Role.ADMIN, Role.SUPERVISOR)  # the what-if, as the API has it

PAGES = (
    ("/console/dashboard", "Dashboard", DASHBOARD),
    ("/console/tickets", "Tickets", TICKET_READERS),
    ("/console/operations", "Operations", OPERATIONS),
    ("/console/audit", "Audit", AUDIT),
    ("/console/definitions", "Definitions", DEFINITIONS),
)


def entries(principal: Principal) -> list[tuple[str, str]]:
    """(path, label) of the pages ``principal`` may open, in menu order."""
    return [(path, label) for path, label, roles in PAGES if principal.role in roles]


def landing(principal: Principal) -> str:
    """The first page of the menu: the dashboard for leaders, the tickets for the others."""
    return entries(principal)[0][0]
