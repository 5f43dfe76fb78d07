"""bench/peer.py and bench/memory.py: their arguments and the pure helpers behind their verdicts
(nothing here is timed: the benchmarks themselves run with scripts/bench.sh)."""

import importlib.util
import os
import random
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


peer = load("peer")
memory = load("memory")


def test_peer_arguments_have_defaults_and_reject_nonsense():
    args = peer.parse_args(["--peer-dir", "/somewhere", "--helpdesk-db", "helpdesk_1m", "--skip", "create"])
    assert (args.peer_dir, args.helpdesk_db, args.skip) == ("/somewhere", "helpdesk_1m", "create")
    assert args.workers == 2 and args.clients == 2 and args.intake_database_url is None and not args.generate
    with pytest.raises(SystemExit):
        peer.parse_args(["--workers", "0"])
    with pytest.raises(SystemExit):
        peer.parse_args(["--dt-requests", "-1"])


def test_ratio_is_peer_over_ours_and_absent_without_both_figures():
    assert peer.ratio(300.0, 3.0) == 100.0
    assert peer.ratio(5.0, 2.0) == 2.5
    assert peer.ratio(1.0, 3.0) == 0.33
    assert peer.ratio(None, 3.0) is None
    assert peer.ratio(3.0, 0) is None


def test_pair_line_compares_cpu_per_request_and_p95_against_the_goal():
    ours = {"server_cpu_ms_per_request": 10.0, "p95_ms": 20.0}
    theirs = {"server_cpu_ms_per_request": 45.0, "p95_ms": 200.0}
    line = peer.pair_line("case_page", ours, theirs, goal=3)
    assert (line["cpu_ratio"], line["p95_ratio"], line["met"]) == (4.5, 10.0, True)
    assert peer.pair_line("case_page", ours, theirs, goal=5)["met"] is False
    assert peer.pair_line("bulk_intake", {"server_cpu_ms_per_report": 0.5}, theirs, goal=100)["cpu_ratio"] == 90.0
    assert peer.pair_line("list_rows", {}, theirs, goal=100)["met"] is None


def test_datatables_url_comes_from_the_list_page_and_is_required():
    html = '<script>$("#t").DataTable({"ajax": {"url": "/helpdesk/datatables_ticket_list/eyJ4IjoxfQ=="}});</script>'
    url = peer.datatables_url(html)
    assert url.startswith("/helpdesk/datatables_ticket_list/eyJ4IjoxfQ==?draw=1&")
    with pytest.raises(SystemExit):
        peer.datatables_url("<html>no table</html>")


def test_intake_database_defaults_next_to_the_read_database():
    url = "postgres://tsconsole@127.0.0.1:5432/tsc_bench"
    assert peer.with_db_name(url, "tsc_bench_peer") == "postgres://tsconsole@127.0.0.1:5432/tsc_bench_peer"


def test_memory_arguments():
    args = memory.parse_args([])
    assert (args.rounds, args.per_round, args.target_mb, args.waves, args.wave) == (3, 10_000, 150, 3, 10_000)
    with pytest.raises(SystemExit):
        memory.parse_args(["--rounds", "1"])
    with pytest.raises(SystemExit):
        memory.parse_args(["--clients", "0"])


def test_a_round_follows_the_mix_and_holds_every_kind():
    plan = memory.plan_round(10_000, random.Random(1))
    assert len(plan) == 10_000 and set(plan) == set(memory.MIX)
    share = plan.count("case_page") / len(plan)
    assert 0.32 < share < 0.38
    assert plan == memory.plan_round(10_000, random.Random(1))
    assert sorted(memory.plan_round(3, random.Random(1))) == sorted(list(memory.MIX)[:3])


def test_web_verdict_checks_the_first_round_and_the_growth_between_the_last_two():
    rounds = [{1: 120.0, 2: 118.5}, {1: 125.0, 2: 121.0}, {1: 125.5, 2: 121.0}]
    verdict = memory.web_verdict(rounds, 150, 2)
    assert verdict["first_round_met"] and verdict["no_growth_met"]
    assert verdict["growth_last_rounds_mb"] == {"1": 0.5, "2": 0.0}
    growing = memory.web_verdict([{1: 160.0}, {1: 170.0}, {1: 180.0}], 150, 2)
    assert not growing["first_round_met"] and not growing["no_growth_met"]
    assert memory.growth([{1: 100.0}]) == {}


def test_celery_task_lines_are_read_from_the_worker_log():
    log = ("[2026-12-02 14:00:00,000: INFO/MainProcess] Task cases.tasks.sla_sweep[abc-1] received\n"
           "[2026-12-02 14:00:01,000: INFO/MainProcess] Task cases.tasks.sla_sweep[abc-1] succeeded in 0.75s: "
           "{'at_risk': 0, 'breached': 10000, 'seconds': 0.7}\n")
    assert memory.parse_task_log(log, "abc-1") == {"seconds": 0.75,
                                                    "returned": {"at_risk": 0, "breached": 10000, "seconds": 0.7}}
    assert memory.parse_task_log(log, "abc-2") is None


def test_rss_of_a_live_process_and_of_a_gone_one():
    assert memory.rss_mb(os.getpid()) > 1
    assert memory.rss_mb(2**22 + 12345) is None


def test_servers_under_test_run_serial_sql_unless_asked_otherwise(monkeypatch):
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=0")
    assert peer.sql_env(False) == {"PGOPTIONS": "-c statement_timeout=0 -c max_parallel_workers_per_gather=0"}
    assert peer.sql_env(True) == {}
    args = peer.parse_args(["--parallel-sql", "--list-requests", "5"])
    assert args.parallel_sql and args.list_requests == 5
