"""The store's definition verbs: publishing workflow definition versions and reading them back.

A definition's YAML text is stored whole, one row per version; publishing the same text again
keeps its version, so ``hotline init`` can run on every start.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from hotline.errors import UnknownDefinition
from hotline.persistence import db
from hotline.persistence.rows import definitions


class DefinitionVerbs(db.Database):
    """Definition versions: ``publish_definition``, ``latest_definition_version``,
    ``definition_source`` (mixed into ``SqlStore``)."""

    def publish_definition(self, name: str, source: str, now: datetime) -> int:
        """Store ``source`` as the next version of ``name``; an unchanged text keeps its version."""
        checksum = hashlib.sha256(source.encode()).hexdigest()
        try:
            return self._publish(name, source, checksum, now)
        except sa.exc.IntegrityError:
            # Another process published at the same moment (replicas running `hotline init`
            # together): read again, and find the text stored or publish the next version.
            return self._publish(name, source, checksum, now)

    def _publish(self, name: str, source: str, checksum: str, now: datetime) -> int:
        with self.writing() as conn:
            latest = conn.execute(
                sa.select(definitions.c.version, definitions.c.checksum)
                .where(definitions.c.name == name)
                .order_by(definitions.c.version.desc())
                .limit(1)
            ).first()
            if latest and latest.checksum == checksum:
                return latest.version
            version = latest.version + 1 if latest else 1
            conn.execute(
                definitions.insert().values(
                    name=name, version=version, source=source, checksum=checksum, published_at=now
                )
            )
            return version

    def latest_definition_version(self, name: str) -> int:
        """The newest version of ``name``; raise UnknownDefinition."""
        query = sa.select(sa.func.max(definitions.c.version)).where(definitions.c.name == name)
        with self.reading() as conn:
            version = conn.execute(query).scalar()
        if version is None:
            raise UnknownDefinition(name)
        return version

    def definition_source(self, name: str, version: int | None = None) -> tuple[int, str]:
        """The (version, YAML text) of ``name`` at ``version``, or its newest version."""
        query = sa.select(definitions.c.version, definitions.c.source).where(
            definitions.c.name == name
        )
        if version is None:
            query = query.order_by(definitions.c.version.desc()).limit(1)
        else:
            query = query.where(definitions.c.version == version)
        with self.reading() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UnknownDefinition(name, version)
        return row.version, row.source
