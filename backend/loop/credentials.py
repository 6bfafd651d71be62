"""Which Label Studio address and token a job uses for a project, and the project's config."""

from __future__ import annotations

from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.settings import Settings
from backend.tasks import parse_label_config


def address_and_token(settings: Settings, config: ProjectConfig | None) -> tuple[str, str]:
    """Where a job talks to Label Studio, and with which token.

    The environment's key goes to ``LABEL_STUDIO_URL`` and nowhere else: anyone who can reach
    ``/setup`` names the ``hostname`` in it, so that host only ever gets the token that came
    with it. ``LABEL_STUDIO_URL`` alone takes the project's token from ``/setup``.
    """
    setup_host = config.hostname if config else ""
    setup_token = config.access_token if config else ""
    if settings.label_studio_url and settings.label_studio_api_key:
        return settings.label_studio_url, settings.label_studio_api_key
    if settings.label_studio_url:
        return settings.label_studio_url, setup_token
    return setup_host, setup_token


def client_for(svc: Services, config: ProjectConfig | None) -> LabelStudioClient:
    """A client for the project's Label Studio (see :func:`address_and_token`)."""
    url, token = address_and_token(svc.settings, config)
    if not url or not token:
        hint = ("LABEL_STUDIO_API_KEY is only ever sent to LABEL_STUDIO_URL: set that too, or "
                if svc.settings.label_studio_api_key and not svc.settings.label_studio_url else "set LABEL_STUDIO_URL "
                "and LABEL_STUDIO_API_KEY, or ")
        raise LabelStudioError(f"no Label Studio address or token for this project: {hint}connect the backend from "
                               "the project's Model settings", retryable=False)
    return LabelStudioClient(url, token)


def project_config(svc: Services, project: int) -> ProjectConfig:
    """The stored config, or one built from Label Studio's own project when never set up."""
    config = svc.state.config(project)
    if config is not None:
        return config
    with client_for(svc, None) as client:
        label_config = client.project_fields(project, "label_config").get("label_config", "")
    return ProjectConfig(project, parse_label_config(label_config), strategy=svc.settings.strategy)
