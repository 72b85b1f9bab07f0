"""The staff workspace: home, queue, triage, intake, figures, export, staff actions and
response templates.

Every page, action and export reads complaints through ``complaints_for(user, WORK)`` (or
``SEE`` where a complaint page is re-shown), so no one sees past their scope.
"""

from .exports import queue_export
from .figures import figures
from .home import complaint_act, complaint_contact, dashboard
from .intake import intake
from .national import national_exchange, national_export
from .queue import queue, triage
from .responses import response_template_edit, response_template_remove, response_templates

__all__ = [
    "complaint_act",
    "complaint_contact",
    "dashboard",
    "figures",
    "intake",
    "national_exchange",
    "national_export",
    "queue",
    "queue_export",
    "response_template_edit",
    "response_template_remove",
    "response_templates",
    "triage",
]
