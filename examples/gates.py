"""McCulloch-Pitts gates, their truth tables, and the proof that no single unit computes XOR.

Run: python examples/gates.py
"""

from chainrule.logic import GATES, XOR_TABLE, format_truth_table, separability, truth_table

for name, unit in GATES.items():
    print(f"{name} = {unit.formula()}")
    print(format_truth_table(truth_table(unit.network()), output=name), end="\n\n")

for name, table in [("AND", truth_table(GATES["AND"])), ("XOR", XOR_TABLE)]:
    result = separability(table)
    if result.separable:
        print(f"{name}: separable, e.g. by {result.unit.formula()}")
    else:
        print(f"{name}: not separable by one unit.\n{result.certificate}")
