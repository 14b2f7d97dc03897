"""Settings from the environment (prefix SIGNOFF_); embedded defaults run the demo."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNOFF_", env_file=None, extra="ignore")

    env: Literal["dev", "demo", "test", "production"] = "dev"
    database_url: str = f"sqlite:///{VAR_DIR / 'signoff.db'}"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 30.0
    smtp_pool_size: int = 4
    # PostgreSQL connections each web or flow process keeps open, and how many more it may
    # open at busy moments (docs/operations.md#3-the-web-app).
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=200)
    mail_from: str = "Signoff <signoff@council.example>"
    timezone: str = "Europe/London"
    council_name: str = "South Cambridgeshire District Council"
    action_link_days: int = Field(default=14, ge=1, le=90)
    sign_in_link_minutes: int = Field(default=20, ge=1, le=240)
    session_hours: int = Field(default=12, ge=1, le=168)
    # Throttling (docs/security.md#throttling); counters live in the `throttle` table.
    # Unknown or expired link tokens one client address may try per window before 429.
    link_misses_per_client: int = Field(default=30, ge=1)
    link_miss_window_minutes: int = Field(default=10, ge=1, le=1440)
    # A live link (sign-in, or a re-sent approval link) younger than this is not sent again.
    link_reuse_minutes: int = Field(default=5, ge=0, le=60)
    # Sign-in and re-sent approval emails per address per hour.
    link_emails_per_hour: int = Field(default=5, ge=1, le=100)
    # POST /sign-in answers no sooner than this, so a registered address is not told by timing.
    sign_in_response_ms: int = Field(default=250, ge=0, le=5000)
    outbox_max_attempts: int = Field(default=8, ge=1)
    # Reminders an owner gets for one late step before it is escalated (0: escalate at once).
    reminders_before_escalation: int = Field(default=2, ge=0, le=20)
    # Performance figures: due on this day of the month after the period (moved on to the
    # next working day), GREY in reports when still missing on the cut-off day.
    figures_due_day: int = Field(default=15, ge=1, le=28)
    report_cutoff_day: int = Field(default=21, ge=1, le=28)
    # A value missing its target by up to this share of the target is AMBER, unless the
    # measure sets its own tolerance.
    amber_tolerance_percent: float = Field(default=10.0, ge=0, le=100)
    # The chase of late figures: a notice this many working days before the due date; a chase
    # on the first working day after it, and again whenever `figures_chase_interval` more
    # working days have passed (2: every third working day); the responsible officer is copied
    # from the chase numbered `copy_responsible_from`, the line manager from `copy_manager_from`.
    figures_remind_before: int = Field(default=3, ge=0, le=10)
    figures_chase_interval: int = Field(default=2, ge=1, le=20)
    copy_responsible_from: int = Field(default=2, ge=1, le=20)
    copy_manager_from: int = Field(default=3, ge=1, le=20)
    prefect_api_url: str | None = None  # set: queued mail nudges the deliver-outbox deployment
    # Host names the app answers to besides BASE_URL's (comma-separated); others get 400.
    allowed_hosts: str = ""
    # Proxies (comma-separated addresses) whose X-Forwarded-For/-Proto headers are believed.
    trusted_proxies: str = ""
    # FastAPI's own OpenTelemetry spans, metrics and logs for each request, sent to the
    # providers this process has set up (e.g. under `opentelemetry-instrument`). Off, no
    # request pays for asking whether any provider is set up (~45 µs, bench/README.md).
    opentelemetry: bool = False
    # Where the demo's capture SMTP server keeps mail and the Demo mailbox page reads it.
    mailbox_dir: Path = VAR_DIR / "mailbox"

    def host_names(self) -> frozenset[str]:
        """The Host header values accepted: BASE_URL's host, ALLOWED_HOSTS, and in dev/demo/test
        the loopback names (people type localhost as often as 127.0.0.1)."""
        from urllib.parse import urlsplit

        names = {urlsplit(self.base_url).hostname or ""}
        names |= {h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()}
        if self.env != "production":
            names |= {"127.0.0.1", "localhost", "::1"}
        return frozenset(n for n in names if n)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def mailbox_enabled(self) -> bool:
        """The capture mailbox page exists only in the demo and in tests, never in production."""
        return self.env in ("demo", "test")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            if len(self.secret_key) < 32:
                raise RuntimeError("SIGNOFF_SECRET_KEY must be at least 32 characters long.")
            return self.secret_key
        if self.env not in ("dev", "demo"):
            raise RuntimeError(
                f"SIGNOFF_SECRET_KEY is not set. Signoff refuses to start in {self.env} "
                "without it: "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return _local_dev_key()


def _local_dev_key() -> str:
    """A key kept under ./var so dev and demo links survive restarts; never used in production."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


@lru_cache
def secret_key() -> bytes:
    return get_settings().resolved_secret_key().encode()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
    secret_key.cache_clear()
