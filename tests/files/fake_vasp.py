"""Test double for the VASP binary (licensed, not installable here): the only stand-in in the tests.

It keeps an exact copy of the inputs it was started with (for the test to check) and answers with
the real outputs of a VASP run from ../shared/fixtures/vasp (VASP_FIXTURE names the folder).
"""

import os
import shutil
import sys
from pathlib import Path

received = Path(os.environ["FAKE_VASP_RECEIVED"])
received.mkdir(parents=True, exist_ok=True)
for name in ("INCAR", "KPOINTS", "POSCAR", "POTCAR"):
    if not Path(name).is_file():
        sys.exit(f"fake VASP: {name} missing")
    shutil.copy(name, received / name)
fixture = Path(os.environ["VASP_FIXTURE"])
shutil.copy(fixture / "vasprun.xml", "vasprun.xml")
shutil.copy(fixture / "POSCAR", "CONTCAR")
print(" running on    1 total cores\n reached required accuracy - stopping structural energy minimisation")
