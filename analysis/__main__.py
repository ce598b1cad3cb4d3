"""python -m analysis <sweep dir>: write table.md, curves.png and temperature.png there (and
curves-chosen.png, the runs at the learning rate chosen on validation, when summary.h5 marks them).
python -m analysis diagnostics <run.h5> [out.png]: plot a run's gradient diagnostics.
python -m analysis ssl-speed <ssl-speed.md> [out.png]: plot the §4.3 speed-up against K."""
import sys

from . import diagnostics, ssl_speed
from .report import write_report


def main(argv):
    if len(argv) >= 2 and argv[1] == "diagnostics":
        return diagnostics.main(argv[2:])
    if len(argv) >= 2 and argv[1] == "ssl-speed":
        return ssl_speed.main(argv[2:])
    if len(argv) != 2:
        print("usage: python -m analysis <sweep dir>", file=sys.stderr)
        return 2
    runs, outputs = write_report(argv[1])
    print(f"{len(runs)} runs")
    for path in outputs.values():
        print(f"wrote {path}")
    print()
    print(open(outputs["table.md"]).read())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
