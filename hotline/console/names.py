"""What people call the definition's codes, in the page's language: a Chinese page shows a
state's or trigger's label (受理, 派单) and a unit's or category's name (朝阳区, 供水) as the
definition of the ticket declares them; an English page, and a code the definition does not
name, show the code. Links and forms keep the codes."""

from __future__ import annotations

from hotline import errors
from hotline.engine.definition import Definition
from hotline.engine.ticket import Ticket
from hotline.service import Service
from hotline.workflows import loader


class Names:
    """The names of one page (made per request)."""

    def __init__(self, service: Service, language: str) -> None:
        self._service = service
        self._named = language == "zh"  # the definitions' labels and names are Chinese
        self._default: Definition | None = None

    def state(self, code: str | None, ticket: Ticket | None = None) -> str:
        definition = self._definition(ticket)
        return definition.label(code) if definition and code else code or ""

    trigger = state  # one table of labels for both, as the definition has it

    def unit(self, code: str | None, ticket: Ticket | None = None) -> str:
        definition = self._definition(ticket)
        found = definition.unit(code) if definition and code else None
        return found.name if found else code or ""

    def category(self, code: str | None, ticket: Ticket | None = None) -> str:
        definition = self._definition(ticket)
        found = definition.category(code) if definition and code else None
        return found.name if found else code or ""

    def _definition(self, ticket: Ticket | None) -> Definition | None:
        """The ticket's own version (the newest of the default workflow without a ticket)."""
        if not self._named:
            return None
        try:
            if ticket is not None:
                compiled = self._service.compiled(ticket.definition, ticket.definition_version)
                return compiled.definition
            if self._default is None:  # once a page: a dashboard names hundreds of units
                newest = self._service.newest(loader.DEFAULT)
                self._default = self._service.compiled(loader.DEFAULT, newest).definition
            return self._default
        except errors.HotlineError:  # no such workflow here: the codes will do
            return None
