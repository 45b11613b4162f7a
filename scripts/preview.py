"""Write a preview PNG of a functional-zone map beside its VHR image: `preview.py VHR MAP PNG`."""

import argparse
import os
import sys
import warnings

# Debian's python3-matplotlib leaves an mpl_toolkits beside the venv's matplotlib; 3D plots are not used here.
warnings.filterwarnings("ignore", message="Unable to import Axes3D")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from csagf_plugin.core.style import preview_png  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("vhr")
    parser.add_argument("map")
    parser.add_argument("png")
    args = parser.parse_args()
    preview_png(args.vhr, args.map, args.png)


if __name__ == "__main__":
    main()
