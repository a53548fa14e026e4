"""Lennard-Jones energy of an atom cluster: the small computation of the example gateway.

Usage: python3 lj_energy.py MOLECULE.xyz PARAMS.json OUTPUT_DIR

Reads an XYZ file (atom count, comment line, then ``element x y z`` per atom) and a JSON file
with ``epsilon``, ``sigma`` and ``cutoff``; writes ``energy.dat`` (total energy and pair count)
and ``distances.dat`` (every pair distance within the cutoff) into OUTPUT_DIR.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def read_xyz(path: Path) -> list[tuple[float, float, float]]:
    lines = path.read_text().splitlines()
    count = int(lines[0])
    atoms = []
    for line in lines[2 : 2 + count]:
        _, x, y, z = line.split()
        atoms.append((float(x), float(y), float(z)))
    if len(atoms) != count:
        raise SystemExit(f"{path}: expected {count} atoms, found {len(atoms)}")
    return atoms


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    atoms = read_xyz(Path(argv[1]))
    params = json.loads(Path(argv[2]).read_text())
    epsilon, sigma, cutoff = params["epsilon"], params["sigma"], params["cutoff"]
    out = Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    energy = 0.0
    pairs = []
    for i, a in enumerate(atoms):
        for b in atoms[i + 1 :]:
            r = math.dist(a, b)
            if r <= cutoff:
                sr6 = (sigma / r) ** 6
                energy += 4 * epsilon * (sr6 * sr6 - sr6)
                pairs.append(r)
    (out / "energy.dat").write_text(f"energy {energy:.6f}\npairs {len(pairs)}\n")
    (out / "distances.dat").write_text("".join(f"{r:.6f}\n" for r in sorted(pairs)))
    print(f"{len(atoms)} atoms, {len(pairs)} pairs within {cutoff}, energy {energy:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
