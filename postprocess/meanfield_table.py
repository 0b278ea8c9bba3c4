"""Reading MeanField's tables (statistics, comparison, study, paper, trajectories, ...): a header
of '# N: name -- description' lines, then one whitespace-separated row per record, strings in
double quotes. Shared by the plotting scripts of this folder (import it from a script here)."""
import re

import numpy as np

# one value: a double-quoted string (which may hold spaces) or a run of non-blanks
_VALUE = re.compile(r'"[^"]*"|\S+')


def read_table(path):
    """The column names and the rows, each a list of strings (quotes removed)."""
    names, rows = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                names.append(line[1:].split(":", 1)[1].split(" -- ")[0].strip())
            elif line.strip():
                rows.append([v.strip('"') for v in _VALUE.findall(line)])
    return names, rows


def read_numeric_table(path):
    """The column names and a float array, one row per record (every column numeric)."""
    names, rows = read_table(path)
    data = np.array([[float(v) for v in row] for row in rows], dtype=float)
    return names, data.reshape(len(rows), len(names))


def read_columns(path):
    """A numeric table as a dict: column name -> array."""
    names, data = read_numeric_table(path)
    return {name: data[:, i] for i, name in enumerate(names)}


def split_output_option(arguments):
    """(the arguments without `--output FILE`, FILE or None): the figure scripts' one option."""
    if "--output" not in arguments:
        return list(arguments), None
    i = arguments.index("--output")
    if i + 1 == len(arguments):
        raise SystemExit("--output needs a file name")
    return arguments[:i] + arguments[i + 2:], arguments[i + 1]
