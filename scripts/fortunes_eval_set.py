"""Write the independent evaluation set: the fortunes-min files, never trained or tuned on.

    python scripts/fortunes_eval_set.py fortunes.txt      # needs: apt-get install fortunes-min
    braillejobs evaluate --engine cnn --data fortunes.txt

Each fortune (files fortunes, literature and riddles, entries separated by ``%`` lines) is cut
into its blank-line paragraphs, each reflowed to one line: 888 lines, 94,791 characters.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from braillejobs.translate.training.corpus import paragraphs  # noqa: E402

FILES = ("fortunes", "literature", "riddles")
FOLDER = Path("/usr/share/games/fortunes")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lines: list[str] = []
    for name in FILES:
        path = FOLDER / name
        if not path.exists():
            sys.exit(f"{path}: not found; install it with: apt-get install fortunes-min")
        for entry in re.split(r"(?m)^%\s*$", path.read_text(encoding="utf-8")):
            lines.extend(paragraphs(entry))
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{sys.argv[1]}: {len(lines)} lines, {sum(map(len, lines)):,} characters")


if __name__ == "__main__":
    main()
