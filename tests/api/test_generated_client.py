"""The OpenAPI document makes a client that works: the schema file written by
`manage.py spectacular` goes through openapi-python-client, and the generated package files a
complaint (JSON, and multipart with a photo), lists, reads and follows it on a live server."""

import importlib
import io
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from complaints.models import Complaint
from tests.lapor.helpers import BASE_DIR, clean_env, manage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PACKAGE = "lapor_api_client"
GENERATOR_CONFIG = f"""
project_name_override: lapor-api-client
package_name_override: {PACKAGE}
post_hooks: []
"""


def generator() -> str:
    """The generator's command, installed beside this interpreter (the dev lock has it)."""
    installed = Path(sys.executable).with_name("openapi-python-client")
    return str(installed) if installed.exists() else shutil.which("openapi-python-client") or ""


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The generated client package, imported from a temporary folder."""
    work = tmp_path_factory.mktemp("generated")
    schema = work / "schema.yml"
    written = manage("spectacular", "--file", str(schema), "--validate", env=clean_env(DEBUG="1"))
    assert written.returncode == 0, written.stderr
    (work / "config.yml").write_text(GENERATOR_CONFIG)
    generated = subprocess.run(
        [generator(), "generate", "--path", str(schema), "--config", str(work / "config.yml")]
        + ["--meta", "none", "--output-path", str(work / PACKAGE)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def module(api, name: str):
    return importlib.import_module(f"{api.__name__}.{name}")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "JPEG")
    return out.getvalue()


FIELDS = {
    "title": "Lampu jalan mati di depan SDN 1",
    "description": "Sudah seminggu lampu penerangan jalan mati.",
    "category": "pju",
    "region": "63.72",
    "address": "Jl. Ahmad Yani km 33",
    "reporter_name": "Siti Aminah",
    "reporter_email": "siti@example.id",
}


def test_a_generated_client_files_lists_reads_and_follows_a_complaint(api, live_server):
    models = module(api, "models")
    create = module(api, "api.pengaduan.complaints_create")
    listing = module(api, "api.pengaduan.complaints_list")
    detail = module(api, "api.pengaduan.complaints_retrieve")
    timeline = module(api, "api.pengaduan.complaints_timeline_list")
    with api.Client(base_url=live_server.url, raise_on_unexpected_status=True) as client:
        run_through(api, models, client, create, listing, detail, timeline)


def run_through(api, models, client, create, listing, detail, timeline) -> None:
    incident_date = timezone.localdate() - timedelta(days=2)

    # JSON: the fields, no files.
    body = models.ComplaintCreateRequest(
        **FIELDS,
        classification=models.ClassificationEnum("pengaduan"),
        incident_date=incident_date,
    )
    response = create.sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    created = response.parsed
    assert isinstance(created, models.ComplaintCreated)
    assert created.title == FIELDS["title"]
    assert created.access_key
    code = created.tracking_code

    # Multipart: the same fields and a photo.
    photo = api.types.File(payload=io.BytesIO(jpeg()), file_name="foto.jpg", mime_type="image/jpeg")
    body = models.ComplaintCreateMultipartRequest(
        **FIELDS,
        classification=models.ClassificationEnum("pengaduan"),
        incident_date=incident_date,
        attachments=[photo],
    )
    response = create.sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    with_photo = response.parsed
    assert [a.content_type for a in with_photo.attachments] == ["image/jpeg"]
    assert Complaint.objects.count() == 2

    # Both are routed, so public: the list shows them, newest first.
    page = listing.sync(client=client, region="63.72")
    assert [c.tracking_code for c in page.results] == [with_photo.tracking_code, code]

    # The reporter (a guest, with the private link's secret) reads it and follows its timeline.
    complaint = detail.sync(code, client=client, x_access_key=created.access_key)
    assert complaint.tracking_code == code
    assert complaint.status.value == "assigned"
    assert complaint.reporter.name == "Siti Aminah"
    events = timeline.sync(code, client=client, x_access_key=created.access_key)
    assert [event.kind.value for event in events] == ["submitted", "routed"]

    # The public reads it too, without the reporter's identity.
    public = detail.sync(code, client=client)
    assert public.tracking_code == code
    assert not public.reporter
