#!/usr/bin/env python
"""Django's command-line utility, with start-up errors reduced to one clear sentence."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lapor.settings")
    from lapor.startup import run_with_clear_errors

    run_with_clear_errors(sys.argv)


if __name__ == "__main__":
    main()
