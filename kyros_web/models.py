"""Every model in one import, so Alembic and the shell see the whole schema."""
from .audit import AuditEvent
from .auth.models import ApiIdempotency, ApiToken, User, UserSession
from .jobs.models import Job, JobKind, JobStatus
from .exceptions.models import DigestEntry, ExceptionAcknowledgement, ExceptionThresholds
from .masterdata.models import Category, Cluster, Location, LocationType
from .planning.models import (GridEdit, GridEditCell, OTBAdjustment, OTBAdjustmentLine, OTBPlan,
                              RangeIntent, SeasonActual, SeasonPlan)
from .purchasing.models import GRNRecord, PORelease, POSource, POStatus, PurchaseOrder
from .analytics.models import season_figures, season_forecast_figures
from .seasons.models import Season, SeasonLocation, SeasonTransition
from .uploads.models import Upload, UploadKind, UploadStatus
from .versions import DataVersion

__all__ = [
    "ApiIdempotency", "ApiToken", "AuditEvent", "DigestEntry", "Category", "Cluster", "DataVersion", "ExceptionAcknowledgement",
    "ExceptionThresholds", "GRNRecord", "GridEdit", "Job", "JobKind", "JobStatus", "GridEditCell", "Location", "LocationType", "OTBAdjustment",
    "OTBAdjustmentLine", "OTBPlan",
    "PORelease", "POSource", "POStatus", "PurchaseOrder", "RangeIntent", "Season", "SeasonLocation",
    "SeasonActual", "SeasonPlan", "SeasonTransition", "Upload", "UploadKind", "UploadStatus", "User",
    "UserSession",
]
