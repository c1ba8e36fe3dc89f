"""examples/soe_ai_*.py: the seed's snippets, soe-ai's code with only the imports changed,
run as scripts (each in its own process, on its own in-process test server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import EXAMPLES, exited_cleanly

SOE_AI_EXAMPLES = sorted(EXAMPLES.glob("soe_ai_*.py"))


def run_example(name: str) -> str:
    """What ``python examples/<name>`` prints; it must exit cleanly."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES.parent,
    )
    assert exited_cleanly(done), done.stderr
    return done.stdout


def printed(stdout: str, label: str) -> str:
    """The value a ``print(f"{label}:", value)`` line shows."""
    prefix = f"{label}: "
    lines = [line[len(prefix) :] for line in stdout.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, f"no single {label!r} line in:\n{stdout}"
    return lines[0]


def test_the_soe_ai_approval_example_runs_as_a_script():
    stdout = run_example("soe_ai_approval.py")
    assert "'APPROVED', 'PROCESS_APPROVED', 'COMPLETE'" in stdout
    assert "order placed" in stdout


def test_the_ecosystem_example_delegates_each_input_to_its_child_workflow():
    """Combined config (F-CFG-3, F-CFG-5); the Classifier routes on input_type; the child's result and
    DONE reach the parent before orchestrate returns (F-CHILD-8, F-CHILD-9); the child's
    LLM call gets the identity of the root's config (F-CHILD-11); the child node emits
    PROCESSING_COMPLETE, so Finalize runs (soe_temporal's D-3, not soe-ai 0.1.4's
    F-CHILD-2)."""
    stdout = run_example("soe_ai_ecosystem.py")
    for kind, words in (("text", 4), ("image", 3)):
        signals = printed(stdout, f"{kind} signals")
        other = "IMAGE" if kind == "text" else "TEXT"
        assert signals.startswith(f"['START', 'HANDLE_{kind.upper()}'")
        assert f"HANDLE_{other}" not in signals
        assert all(name in signals for name in ("'PROCESSING_COMPLETE'", "'COMPLETE'", "'DONE'"))
        analyzer = "AnalyzeText" if kind == "text" else "AnalyzeImage"
        assert printed(stdout, f"{kind} result") == (
            f"{{'analyzed_by': '{analyzer}', 'as': 'You are an expert {kind} analyst', "
            f"'words': {words}}}"
        )
        assert printed(stdout, f"{kind} identity").startswith(f"You are an expert {kind} analyst")


def test_the_versioning_example_routes_on_api_version_and_defaults_to_v2():
    """Strategy 1: a router condition on context.api_version (F-SIG-3) picks the child
    workflow; with no api_version, 'is not defined' holds and v2 runs."""
    stdout = run_example("soe_ai_versioning.py")
    assert printed(stdout, "v1 signals") == "['START', 'USE_V1', 'V1_DONE', 'COMPLETE']"
    assert printed(stdout, "v2 signals") == "['START', 'USE_V2', 'V2_DONE', 'COMPLETE']"
    assert printed(stdout, "latest signals") == "['START', 'USE_LATEST', 'V2_DONE', 'COMPLETE']"
    old_way = "ProcessOldWay: Process (v1 legacy format): order 42"
    new_way = "ProcessNewWay: Process with enhanced capabilities: order 42"
    assert printed(stdout, "v1 response") == old_way
    assert printed(stdout, "v2 response") == new_way
    assert printed(stdout, "latest response") == new_way


def test_the_migration_example_resumes_a_v1_execution_as_v2_with_its_latest_values():
    """Strategy 3: get_context returns history lists (F-CTX-1) and __operational__ (F-OPS-1);
    the migrated latest values become the new execution's initial context (F-CTX-5), which
    starts with RESUME and is approved later by its id (F-EXEC-10)."""
    stdout = run_example("soe_ai_migration.py")
    assert printed(stdout, "old current_step") == "['awaiting_approval']"
    assert printed(stdout, "old signals") == "['START', 'WAITING_FOR_APPROVAL']"
    assert printed(stdout, "migrated context") == (
        "{'purchase_request': 'laptop', 'current_step': 'awaiting_approval'}"
    )
    assert printed(stdout, "new signals") == (
        "['RESUME', 'WAITING_FOR_APPROVAL', 'USER_APPROVED', 'PROCESS_APPROVED']"
    )
    assert printed(stdout, "new final_result") == "{'status': 'approved', 'ordered': 'laptop'}"
    assert printed(stdout, "old final_result") == "None"


def test_the_cross_execution_example_signals_the_listener_from_a_tool():
    """A tool calling broadcast_signals on another execution (F-API-2, F-EXEC-10): the
    listener has heard EXTERNAL_EVENT by the time the notifier's orchestrate returns."""
    stdout = run_example("soe_ai_cross_execution.py")
    assert printed(stdout, "notifier receipt") == "{'notified': True}"
    assert printed(stdout, "notifier signals") == "['START', 'NOTIFIED']"
    assert printed(stdout, "listener signals") == (
        "['START', 'LISTENING', 'EXTERNAL_EVENT', 'HEARD']"
    )


@pytest.mark.parametrize("example", SOE_AI_EXAMPLES, ids=lambda path: path.name)
def test_the_soe_ai_examples_import_only_from_soe_temporal_soe(example):
    imports = [
        line
        for line in example.read_text().splitlines()
        if line.startswith(("import ", "from ")) and "__future__" not in line
    ]
    soe_imports = [line for line in imports if "soe" in line]
    assert soe_imports and all(line.startswith("from soe_temporal.soe") for line in soe_imports)


def test_the_import_check_covers_all_five_soe_ai_examples():
    assert {path.name for path in SOE_AI_EXAMPLES} == {
        "soe_ai_approval.py",
        "soe_ai_cross_execution.py",
        "soe_ai_ecosystem.py",
        "soe_ai_migration.py",
        "soe_ai_versioning.py",
    }
