"""The system-use notification every person acknowledges before use (CJIS 5.5.4)."""

import hashlib

BANNER_TITLE = "Restricted system: authorized use only"
BANNER_PARAGRAPHS = (
    "You are accessing a restricted information system operated for the public defender "
    "and its partner agencies. It holds criminal justice information, health and substance "
    "use treatment records protected by 42 CFR Part 2, and privileged attorney-client "
    "material.",
    "Use of this system is limited to authorized users for authorized purposes. Use may be "
    "monitored, recorded, and subject to audit.",
    "Unauthorized use, or use beyond your authorization, is prohibited and subject to "
    "criminal and civil penalties.",
    "By using this system you consent to this monitoring and recording.",
)
BANNER_SHA256 = hashlib.sha256("\n".join((BANNER_TITLE, *BANNER_PARAGRAPHS)).encode()).hexdigest()
