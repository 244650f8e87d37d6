from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_configs() -> dict[str, str]:
    configs = {p.name: p.read_text() for p in sorted((SHARED / "configs").glob("*.xml"))}
    if not configs:
        pytest.fail(f"no sample configs in {SHARED / 'configs'}")
    return configs
