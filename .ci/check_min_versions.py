"""Fail unless each floor of gpureg's requirements is the version installed.

Run by .ci/run-min in .venv-min, after ``pip install -c
.ci/min-constraints.txt ".[EXTRA,...]"``, with those extras as arguments:
every requirement of gpureg (and of those extras) with a ``>=`` floor must be
installed in the floor's own release series (``>=2.0`` and 2.0.0, ``>=13``
and 13.0.48), so the constraints and pyproject.toml cannot drift apart.
"""

import sys
from importlib.metadata import requires, version

from packaging.requirements import Requirement
from packaging.version import Version

extras = set(sys.argv[1:])
bad = []
for line in requires("gpureg"):
    req = Requirement(line)
    if req.marker is not None and not any(
        req.marker.evaluate({"extra": e}) for e in extras
    ):
        continue
    floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
    if not floors:
        bad.append(f"{req}: no '>=' floor")
        continue
    floor, got = floors[0].release, Version(version(req.name)).release
    if got[: len(floor)] != floor:
        bad.append(f"{req}: {version(req.name)} installed")
    print(f"{req.name + str(req.specifier):24} {version(req.name)}")
if bad:
    sys.exit("not at the declared minimum:\n  " + "\n  ".join(bad))
