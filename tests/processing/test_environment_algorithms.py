"""csagf:check_environment, the missing-package message every algorithm gives, icons and the shipped help page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback
from qgis.PyQt.QtCore import QUrl

pytestmark = pytest.mark.usefixtures("csagf_provider")


def test_check_environment_reports_versions_providers_and_one_tile(tmp_path):
    import numpy
    import onnxruntime
    import processing

    report_path = tmp_path / "environment.txt"
    result = processing.run("csagf:check_environment", {"OUTPUT": str(report_path)})
    report = result["REPORT"]
    assert report_path.read_text(encoding="utf-8").strip() == report.strip()
    assert f"numpy {numpy.__version__}" in report
    assert f"onnxruntime-gpu {onnxruntime.__version__}" in report or f"onnxruntime {onnxruntime.__version__}" in report
    assert "listed: " in report and "CPUExecutionProvider" in report
    assert "NVIDIA driver: " in report
    assert "ONNX opset ai.onnx 19" in report  # the bundled model, read without the onnx package
    timing = re.search(r"one (\d+) x \1 tile on cpu: (\d+) ms", report)
    assert timing and int(timing.group(2)) > 0
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers() and "NVIDIA driver: none" in report:
        # a GPU build without a GPU (this machine): the report quotes onnxruntime's reason, e.g. libcuda.so.1 missing
        assert re.search(r"on cuda: the CUDA provider did not load.*onnxruntime says: \S", report)


def test_opsets_read_by_the_doctor_match_onnx():
    onnx = pytest.importorskip("onnx")
    from csagf_plugin.environment.doctor import model_opsets
    from csagf_plugin.processing.classify import DEFAULT_MODEL

    model = onnx.load(DEFAULT_MODEL, load_external_data=False)
    assert model_opsets(DEFAULT_MODEL) == {o.domain: o.version for o in model.opset_import}


def test_a_missing_package_gives_one_line_that_says_what_to_do():
    from csagf_plugin.processing.base import CsagfAlgorithm

    class NeedsAbsentPackage(CsagfAlgorithm):
        def name(self):
            return "needs_absent"

        def run_algorithm(self, parameters, context, feedback, progress):
            import csagf_not_installed  # noqa: F401

    with pytest.raises(QgsProcessingException) as raised:
        NeedsAbsentPackage().processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())
    message = str(raised.value)
    assert "\n" not in message and "csagf_not_installed is not installed" in message
    assert "Install dependencies" in message


def test_every_algorithm_has_the_icon_and_a_section_of_the_shipped_help_page(csagf_provider):
    algorithms = csagf_provider.algorithms()
    assert {"install_dependencies", "check_environment"} <= {a.name() for a in algorithms}
    for algorithm in algorithms:
        assert not algorithm.icon().isNull(), algorithm.name()
        url = QUrl(algorithm.helpUrl())
        page = Path(url.toLocalFile())
        assert url.isLocalFile() and url.fragment() == algorithm.name() and page.is_file()
        # the page is written by scripts/make_help_page.py; rerun it after adding an algorithm
        assert f'id="{algorithm.name()}"' in page.read_text(encoding="utf-8"), algorithm.name()
