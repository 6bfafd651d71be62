"""Which Label Studio address and token a job uses for a project, and the project's config."""

from __future__ import annotations

from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.tasks import parse_label_config


def client_for(svc: Services, config: ProjectConfig | None) -> LabelStudioClient:
    """``LABEL_STUDIO_URL``/``LABEL_STUDIO_API_KEY`` when set, else what ``/setup`` sent."""
    s = svc.settings
    url = s.label_studio_url or (config.hostname if config else "")
    token = s.label_studio_api_key or (config.access_token if config else "")
    if not url or not token:
        raise LabelStudioError("no Label Studio address or token for this project: set LABEL_STUDIO_URL and "
                               "LABEL_STUDIO_API_KEY, or connect the backend from the project's Model settings",
                               retryable=False)
    return LabelStudioClient(url, token)


def project_config(svc: Services, project: int) -> ProjectConfig:
    """The stored config, or one built from Label Studio's own project when never set up."""
    config = svc.state.config(project)
    if config is not None:
        return config
    with client_for(svc, None) as client:
        label_config = client.project_fields(project, "label_config").get("label_config", "")
    return ProjectConfig(project, parse_label_config(label_config), strategy=svc.settings.strategy)
