"""Masked forms of personal data, as staff other than the admin see them: enough to recognise, not enough to contact."""

from __future__ import annotations

import re

from .customer import FORGOTTEN


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``."""
    if email == FORGOTTEN or "@" not in email:
        return email if email == FORGOTTEN else "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """``+44 7700 900123`` -> ``+44 ******* 123``: country code and last three digits kept."""
    if not phone or phone == FORGOTTEN:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 5:
        return "*" * len(digits)
    prefix = ""
    if phone.strip().startswith("+"):
        match = re.match(r"\+\s*(\d{1,3})", phone.strip())
        prefix = f"+{match.group(1)} " if match else "+"
        digits = digits[len(match.group(1)) :] if match else digits
    return f"{prefix}{'*' * (len(digits) - 3)} {digits[-3:]}"


def mask_words(text: str) -> str:
    """``Ann Lee`` -> ``A** L**``: first letter of each word kept."""
    if not text or text == FORGOTTEN:
        return text
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in text.split())


def mask_personal(field: str, value: str) -> str:
    """A personal-data field of a customer's profile (name, email, phone, address), masked."""
    mask = {"email": mask_email, "phone": mask_phone}.get(field, mask_words)
    return mask(value)
