import pytest

from research.errors import NotebookExecutionError
from research.reporting import build_reports, execute_notebook, list_studies
from research.reporting.notebooks import read_study

STUDY = """# %% [markdown]
# # A small study
#
# ## First section

# %% tags=["parameters"]
fast = False
value = 1

# %%
result = value * 2
"""

FAILING = (
    STUDY
    + """
# %%
raise RuntimeError("calibration did not converge")
"""
)


def test_read_study_takes_the_title_and_promotes_headings(tmp_path):
    path = tmp_path / "01_small.py"
    path.write_text(STUDY)
    nb = read_study(path)
    assert nb.metadata["title"] == "A small study"
    assert nb.cells[0].source == "# First section"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_list_studies_keeps_numbered_files_in_order(tmp_path):
    for name in ["02_b.py", "01_a.py", "helper.py", "10_c.txt"]:
        (tmp_path / name).write_text("")
    assert [p.name for p in list_studies(tmp_path)] == ["01_a.py", "02_b.py"]


def test_parameters_are_injected(tmp_path):
    path = tmp_path / "01_small.py"
    path.write_text(STUDY)
    executed = execute_notebook(path, tmp_path / "out.ipynb", {"value": 21})
    import nbformat

    nb = nbformat.read(executed.path, as_version=4)
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)
    assert namespace["result"] == 42


def test_a_failing_study_names_study_and_cell_and_leaves_no_pdf(tmp_path):
    (tmp_path / "01_failing.py").write_text(FAILING)
    with pytest.raises(
        NotebookExecutionError, match=r"01_failing.py failed in cell .*did not converge"
    ):
        build_reports(tmp_path, tmp_path / "reports")
    assert not list((tmp_path / "reports").glob("*.pdf"))


RECORDING = """# %% [markdown]
# # Recording study

# %% tags=["parameters"]
fast = False

# %%
import pandas as pd
import numpy as np
from research.reporting import record
record("coverage", pd.DataFrame({"isolated": [0.99], "cross": [0.985]}, index=["pair"]))
record("zone", "green")
record("exceptions", np.int64(3))
"""


def test_recorded_results_are_read_back_from_the_executed_notebook(tmp_path):
    from research.reporting import read_records

    path = tmp_path / "01_rec.py"
    path.write_text(RECORDING)
    executed = execute_notebook(path, tmp_path / "rec.ipynb")
    records = read_records(executed.path)
    assert records["zone"] == "green"
    assert records["exceptions"] == 3
    assert records["coverage"] == {
        "columns": ["isolated", "cross"],
        "index": ["pair"],
        "data": [[0.99, 0.985]],
    }
