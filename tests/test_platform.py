"""Process-level tuning: the dashboard's thread settings and the torch thread count."""

from __future__ import annotations

import pytest

from rnnlab._platform import INTERACTIVE_MAX_THREADS, interactive_thread_env


@pytest.mark.parametrize(("cores", "threads", "policy"), [
    (1, "1", None),  # nothing to leave: one thread, no sleeping team needed
    (2, "1", None),  # the reference machine: one core for training, one for the server and browser
    (3, "2", "PASSIVE"),  # a team of 2: idle workers sleep instead of fighting the server
    (64, str(INTERACTIVE_MAX_THREADS), "PASSIVE"),
])
def test_interactive_thread_env_leaves_a_core_to_the_server(cores, threads, policy):
    env: dict[str, str] = {}
    applied = interactive_thread_env(env, cores=cores)
    assert env.get("RNNLAB_THREADS") == threads and env.get("OMP_WAIT_POLICY") == policy
    assert applied == env


def test_interactive_thread_env_keeps_what_the_user_set():
    env = {"RNNLAB_THREADS": "3", "OMP_WAIT_POLICY": "ACTIVE"}
    assert interactive_thread_env(env, cores=2) == {} and env == {"RNNLAB_THREADS": "3", "OMP_WAIT_POLICY": "ACTIVE"}
    env = {"RNNLAB_THREADS": "2"}  # the user's thread count decides whether the team sleeps
    assert interactive_thread_env(env, cores=16) == {"OMP_WAIT_POLICY": "PASSIVE"}
