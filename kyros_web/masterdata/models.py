"""Clusters, locations and the category tree (SPEC §2)."""
from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import (Boolean, CheckConstraint, ForeignKey, Index, String,
                        Text, Uuid, func)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, fk, str_enum
from ..versions import SHARED_DATA


class LocationType(StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"

    @property
    def title(self) -> str:
        return self.value.capitalize()


class Cluster(IdMixin, db.Model):
    __tablename__ = "clusters"
    __version_scope__ = SHARED_DATA

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    locations: Mapped[list["Location"]] = relationship(back_populates="cluster")

    def __repr__(self) -> str:
        return f"<Cluster {self.name}>"


Index("uq_clusters_name_lower", func.lower(Cluster.name), unique=True)


class Location(IdMixin, db.Model):
    __tablename__ = "locations"
    __version_scope__ = SHARED_DATA
    __table_args__ = (
        CheckConstraint("length(location_code) = 16", name="location_code_length"),
        CheckConstraint("location_code = upper(location_code)", name="location_code_upper"),
        # The grids list rows by location name then code: with this index PostgreSQL walks
        # the locations in order and stops after a page instead of sorting the season.
        Index("ix_locations_name_code", "name", "location_code"),
    )

    location_code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    type: Mapped[LocationType] = mapped_column(
        str_enum(LocationType, "location_type", 20),
        nullable=False, index=True,
    )
    cluster_id: Mapped[uuid.UUID | None] = fk("clusters.id", nullable=True)
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)

    cluster: Mapped[Cluster | None] = relationship(back_populates="locations")

    def __repr__(self) -> str:
        return f"<Location {self.location_code} {self.name}>"


class Category(IdMixin, db.Model):
    __tablename__ = "categories"
    __version_scope__ = SHARED_DATA
    __table_args__ = (
        CheckConstraint("code = upper(code)", name="code_upper"),
        CheckConstraint("length(code) >= 1", name="code_not_empty"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    code: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )

    parent: Mapped["Category | None"] = relationship(
        remote_side="Category.id", back_populates="children"
    )
    children: Mapped[list["Category"]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Category {self.code}>"
