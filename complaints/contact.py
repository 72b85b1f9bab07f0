"""What a reporter may give as a phone number, one rule for every door: the complaint forms,
staff intake, the API, Open311 and the reporter's own correction. The services check it
(``complaints.services``); the forms and the API's serializer use the same validator so that
the field's error shows beside the field."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

PHONE_MAX_LENGTH = 20

# A leading "+", a digit, then 6 to 18 digits, spaces or hyphens: "0812 3456 7890",
# "+62 812-3456-7890". Whether a text message can reach it is ``phone_normalise``'s question.
validate_phone = RegexValidator(
    r"^\+?[0-9][0-9 \-]{6,18}$", message=_("Enter a phone number, e.g. 0812 3456 7890.")
)
