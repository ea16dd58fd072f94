"""docs/grafana-dashboard.json only charts metrics the server really exports."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from tests.server import RunningServer

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"


def test_every_dashboard_expression_names_an_exported_metric(server: RunningServer) -> None:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        text = reply.read().decode()
    families = set(re.findall(r"^# TYPE (\S+) (\w+)$", text, re.M))
    exported = {name for name, _ in families}
    histograms = {f"{name}_bucket" for name, kind in families if kind == "histogram"}
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            metrics = set(re.findall(r"\b(?:strata|process)_[a-z_]+", expr))
            assert metrics, expr
            assert metrics <= exported | histograms, (panel["title"], metrics - exported)
