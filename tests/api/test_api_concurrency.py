"""Concurrent creates on PostgreSQL: threads with their own connections, committed data."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from complaints.models import Complaint

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
    ),
]


def payload(n: int) -> dict:
    return {
        "classification": "pengaduan",
        "title": f"Lampu jalan mati nomor {n}",
        "description": "Lampu penerangan jalan mati.",
        "category": "pju",
        "region": "63.72",
        "address": f"Jl. Panglima Batur no. {n}",
        "incident_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "reporter_name": "Warga",
        "reporter_phone": "081234567890",
    }


def run_concurrently(keys: list[str]) -> list:
    barrier = threading.Barrier(len(keys))
    responses: list = [None] * len(keys)

    def create(index: int, key: str) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = APIClient().post(
                "/api/v1/complaints/",
                payload(index),
                format="json",
                HTTP_IDEMPOTENCY_KEY=key,
                REMOTE_ADDR=f"10.0.0.{index + 1}",
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(i, k)) for i, k in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_twenty_concurrent_creates_with_distinct_keys_make_twenty_complaints():
    keys = [str(uuid.uuid4()) for _ in range(20)]
    responses = run_concurrently(keys)
    assert [r.status_code for r in responses] == [201] * 20
    assert Complaint.objects.count() == 20
    assert Complaint.objects.filter(status="assigned").count() == 20
    assert len({r.json()["tracking_code"] for r in responses}) == 20


def test_concurrent_creates_with_one_key_make_one_complaint():
    key = str(uuid.uuid4())
    responses = run_concurrently([key] * 8)
    assert Complaint.objects.count() == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409, 422}
    code = Complaint.objects.get().tracking_code
    for response in responses:
        # Each came from another address with another body: only the sender learns the code.
        if response.status_code == 201:
            assert response.json()["tracking_code"] == code
        else:
            assert code not in response.content.decode()
