"""Everything held about a lead, wherever it is stored: a registry of sections, one per kind of row.

crm holds the lead, but engagements, receiver calls and deliveries live in apps above it, which crm may not
import. So each app registers, in its AppConfig.ready(), the sections for the tables it owns: how to export
them (JSON-able items, read in chunks) and how to erase the personal data in them (counts of rows changed
per table). The export and erase services (crm/services/lead_lifecycle.py) walk the registry; they never
name a higher app.
"""
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

# How many rows an export reads from the database at a time: the memory it needs does not grow with the lead.
EXPORT_CHUNK_SIZE = 500


@dataclass(frozen=True)
class LeadIdentity:
    """The lead's personal values as they were before the erasure: what a section looks for in text it
    cannot reach by a foreign key (a call that failed before it made anything, an admin log line)."""

    first_name: str
    last_name: str
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def searchable(self) -> tuple[str, ...]:
        """The values that name this lead in free text (a first name alone names too many)."""
        return tuple(value for value in (self.full_name, self.email, self.phone) if value)


@dataclass(frozen=True)
class LeadDataSection:
    """One kind of row holding a lead's data: `export(lead=)` yields its items, `erase(lead=, identity=)`
    removes the personal data from them and answers {"<app.Model>": rows changed}. `export` is None for
    rows that are only erased (an admin log line is not data about the lead)."""

    name: str
    erase: Callable[..., dict[str, int]]
    export: Callable[..., Iterable[dict]] | None = None


class LeadDataRegistry:
    """The sections, in the order they registered (crm's first: the lower app's rows come first)."""

    def __init__(self):
        self._sections: dict[str, LeadDataSection] = {}

    def register(self, section: LeadDataSection) -> LeadDataSection:
        """Add a section; registering one of the same name again replaces it (ready() may run twice in tests)."""
        self._sections[section.name] = section
        return section

    @property
    def sections(self) -> tuple[LeadDataSection, ...]:
        return tuple(self._sections.values())

    def exported(self) -> Iterator[LeadDataSection]:
        return (section for section in self._sections.values() if section.export is not None)


lead_data_sections = LeadDataRegistry()
