"""The slow suite: tests marked `slow` (soak tests) run only with `-m slow` or TAPEGRAD_SLOW=1."""
import os


def pytest_collection_modifyitems(config, items):
    if os.environ.get("TAPEGRAD_SLOW") or "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [it for it in items if it.get_closest_marker("slow")]
    if slow:
        items[:] = [it for it in items if not it.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)
