"""Project and flow files -> validated specs, with every problem placed on its line.

::

    project = load_project(Path("my-integrations"))   # ConfigError lists every problem
    flow = project.flows["crm-orders-to-erp"]
    flow.steps[1].path, flow.steps[1].line            # "steps[1].validate", 9

Secrets are references (``${env:NAME}``, ``${file:PATH}``) resolved at load and masked by
:func:`splice.secrets.mask`; see ``docs/guides/flows.md`` and ``docs/guides/secrets.md``.
"""

from __future__ import annotations

from splice.config._flow import load_flow
from splice.config._models import ComponentRef, ErrorPolicy, FlowSpec, Project, SystemSpec
from splice.config._project import load_project, load_settings

__all__ = [
    "ComponentRef",
    "ErrorPolicy",
    "FlowSpec",
    "Project",
    "SystemSpec",
    "load_flow",
    "load_project",
    "load_settings",
]
