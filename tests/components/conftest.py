from __future__ import annotations

from pathlib import Path

import pytest

# copied from shared/data: the suite must not depend on what sits beside the checkout
SAMPLES = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def shared_configs() -> dict[str, str]:
    configs = {p.name: p.read_text() for p in sorted((SAMPLES / "configs").glob("*.xml"))}
    if not configs:
        pytest.fail(f"no sample configs in {SAMPLES / 'configs'}")
    return configs
