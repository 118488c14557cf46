"""``python -m scripts.peak_rss <careledger args>``: the command, then its own peak RSS.

The kernel's ``ru_maxrss`` for a child counts the parent's memory it was forked from (Linux keeps
the high-water mark across ``exec``), so a benchmark would report its own size, not the command's.
``VmHWM`` in ``/proc/self/status`` belongs to the command's own address space: it is written, in
kB, to the file named by ``CARELEDGER_PEAK_RSS_FILE`` when the command exits.
"""

from __future__ import annotations

import atexit
import os
import resource
from pathlib import Path

from scripts.cli import main

PEAK_FILE = "CARELEDGER_PEAK_RSS_FILE"


def peak_rss_kb() -> int:
    """This process's peak resident set, in kB (``ru_maxrss`` where ``/proc`` is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _record() -> None:
    Path(os.environ[PEAK_FILE]).write_text(str(peak_rss_kb()))


if __name__ == "__main__":  # pragma: no cover - run as a module by the benchmark
    if os.environ.get(PEAK_FILE):
        atexit.register(_record)
    main()
