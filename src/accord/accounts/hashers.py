from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 at a cost fit for a test suite only (settings select it when MODE=test)."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
