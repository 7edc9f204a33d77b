"""Sign-in throughput: password, one-time code and logon banner through the real views, with
Argon2 at production cost (test mode's cheap hasher switched off)."""

from __future__ import annotations

import os
import time

from bench._setup import latency_summary, prepare, say

NAME = "sign_in"
PASSWORD = "bench sign-in passphrase 42"  # noqa: S105 - throwaway benchmark credential
PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def main() -> None:
    prepare(NAME)
    from django.test import Client, override_settings
    from django.urls import reverse

    from accord.accounts.models import AuthenticatorDevice
    from accord.core.actors import SYSTEM
    from accord.core.testing import enrol_test_authenticator
    from accord.directory.actions import add_staff, create_agency

    count = int(os.environ.get("BENCH_SIGN_INS", "40"))
    with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
        agency = create_agency(
            actor=SYSTEM,
            name="Bench Defender",
            short_name="BD",
            kind="public_defender",
            jurisdiction="Bench County",
        )
        started = time.perf_counter()
        # One person per sign-in: a one-time code is accepted once per 30-second step.
        devices = []
        for i in range(count):
            profile = add_staff(
                agency,
                actor=SYSTEM,
                username=f"bench{i:03d}",
                first_name="Bench",
                last_name=f"Person {i}",
                email=f"bench{i}@bench.invalid",
                roles=["attorney"],
                password=PASSWORD,
            )
            devices.append(enrol_test_authenticator(profile.user, actor=SYSTEM))
        say(
            NAME,
            f"{count} accounts made (Argon2 at production cost) "
            f"in {time.perf_counter() - started:.1f} s",
        )
        sign_in, code, banner = (
            reverse(name)
            for name in ("accounts:sign-in", "accounts:second-factor", "accounts:banner")
        )
        latencies = []
        started = time.perf_counter()
        for i, device in enumerate(devices):
            client = Client()
            one = time.perf_counter()
            steps = (
                client.post(sign_in, {"username": f"bench{i:03d}", "password": PASSWORD}),
                client.post(
                    code, {"code": AuthenticatorDevice.objects.get(pk=device.pk).current_code()}
                ),
                client.post(banner, {}),
            )
            latencies.append(time.perf_counter() - one)
            targets = [step.get("Location", f"status {step.status_code}") for step in steps]
            if targets[:2] != [code, banner] or steps[2].status_code != 302:
                raise SystemExit(f"[{NAME}] sign-in {i} did not complete: {targets}")
        seconds = time.perf_counter() - started
    say(
        NAME,
        f"{count} full sign-ins (password + TOTP + banner) in {seconds:.1f} s: "
        f"{count / seconds:.1f} sign-ins/s; per sign-in {latency_summary(latencies)}",
    )


if __name__ == "__main__":
    main()
