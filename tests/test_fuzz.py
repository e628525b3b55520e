"""A short property-based run of the whole API from its OpenAPI document.

``make fuzz`` runs the same with far more generated requests and a new seed
each time; see tests/fuzz.py.
"""

from __future__ import annotations

from tests.fuzz import run_fuzz
from tests.servers import Dynalite

# Generated requests per operation in the fuzzing phase, and a fixed seed, so
# that each `make test` draws the same cases and takes about a minute at most.
SHORT_RUN_EXAMPLES = 50
SHORT_RUN_SEED = 20261204


def test_generated_requests_match_the_document(dynalite_server: Dynalite) -> None:
    run = run_fuzz(
        SHORT_RUN_EXAMPLES, seed=SHORT_RUN_SEED, endpoint=dynalite_server.endpoint
    )

    print(run.summary())
    report = f"{run.output[-20_000:]}\n{run.summary()}"
    assert run.exit_code == 0, report
    assert run.server_errors == [], report
    assert sum(run.responses.values()) > 6 * SHORT_RUN_EXAMPLES, report
