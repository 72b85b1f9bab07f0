"""Celery's command line on a clock moved forward by ``LOAD_CLOCK_OFFSET`` seconds (bench/load.py).

``python bench/load_clock.py -A lapor worker ...`` is ``celery -A lapor worker ...`` in which
``time.time()`` and ``datetime.now()`` run ``LOAD_CLOCK_OFFSET`` seconds ahead (time-machine,
ticking), in the worker's child processes too (they are forked from it). The load test starts
its second phase's workers and beats with it, so that the complaints it submitted are days past
their follow-up deadline for the sweep. Every process of that phase gets the same offset.
"""

import os
import sys
import time
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    offset = float(os.environ.get("LOAD_CLOCK_OFFSET", "0"))
    if offset:
        time_machine.travel(time.time() + offset, tick=True).start()
    from celery.__main__ import main as celery_main

    sys.argv[0] = "celery"
    celery_main()


if __name__ == "__main__":
    main()
