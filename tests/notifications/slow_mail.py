"""A file email backend that takes a little while per message, like a real mail server; the
worker tests load it (``LAPOR_TEST_EMAIL_BACKEND``) to catch a worker in the middle of a batch."""

import time

from django.core.mail.backends.filebased import EmailBackend


class SlowFileBackend(EmailBackend):
    def send_messages(self, email_messages):
        time.sleep(0.01 * len(email_messages))
        return super().send_messages(email_messages)
