"""Copy the front-end packages installed by npm into Accord's static files.

USWDS ships compiled CSS, fonts, images and scripts in dist/; htmx ships one file. Nothing
is fetched at run time: deployments are often offline, and a CDN is never used.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "src" / "accord" / "static" / "vendor"

COPIES = [
    (MODULES / "@uswds" / "uswds" / "dist" / "css", VENDOR / "uswds" / "css"),
    (MODULES / "@uswds" / "uswds" / "dist" / "fonts", VENDOR / "uswds" / "fonts"),
    (MODULES / "@uswds" / "uswds" / "dist" / "img", VENDOR / "uswds" / "img"),
    (MODULES / "@uswds" / "uswds" / "dist" / "js", VENDOR / "uswds" / "js"),
    (MODULES / "htmx.org" / "dist" / "htmx.min.js", VENDOR / "htmx" / "htmx.min.js"),
]


def main() -> int:
    missing = [str(src) for src, _ in COPIES if not src.exists()]
    if missing:
        print("Run `npm ci` first; missing: " + ", ".join(missing), file=sys.stderr)
        return 1
    shutil.rmtree(VENDOR, ignore_errors=True)
    for src, dest in COPIES:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(src, dest)
    print(f"front-end assets copied to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
