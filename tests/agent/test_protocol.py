"""Progress lines: format, parse, throttle, redaction."""

from __future__ import annotations

import io
import json

from comfyhangar.agent.protocol import PREFIX, Reporter, format_progress_line, parse_progress_line


class TestParseProgressLine:
    def test_round_trip(self) -> None:
        line = format_progress_line(
            "models", "running", bytes_done=5, bytes_total=10, speed_bps=2.5
        )
        body = parse_progress_line(line)
        assert body is not None
        assert body["step"] == "models"
        assert body["bytes_done"] == 5
        assert body["time"].endswith("Z")

    def test_prefix_after_log_timestamp(self) -> None:
        line = "2026-11-26T07:00:00Z " + format_progress_line("ready", "done")
        assert parse_progress_line(line) == parse_progress_line(line.split(" ", 1)[1])

    def test_rejects_garbage(self) -> None:
        bad = [
            "plain log line",
            f"{PREFIX} not json",
            f"{PREFIX} []",
            f'{PREFIX} {{"v":2,"step":"models","status":"done"}}',
            f'{PREFIX} {{"v":1,"step":"nope","status":"done"}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"weird"}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"done","bytes_done":"5"}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"done","bytes_done":-1}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"done","message":3}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"done","eta_s":true}}',
            f'{PREFIX} {{"v":1,"step":"models","status":"done","run":7}}',
        ]
        assert [parse_progress_line(b) for b in bad] == [None] * len(bad)

    def test_unknown_fields_are_kept(self) -> None:
        line = f"{PREFIX} {json.dumps({'v': 1, 'step': 'start', 'status': 'done', 'x': 1})}"
        assert parse_progress_line(line) == {"v": 1, "step": "start", "status": "done", "x": 1}


class TestReporter:
    def test_running_lines_are_throttled(self) -> None:
        out = io.StringIO()
        rep = Reporter(out)
        sent = [rep.progress("models", "running", bytes_done=i) for i in range(50)]
        assert sent.count(True) == 1
        assert rep.progress("models", "done")
        assert rep.progress("custom_nodes", "running")

    def test_secrets_are_redacted_everywhere(self) -> None:
        out = io.StringIO()
        rep = Reporter(out, secrets=["hf_abc/def+ghi"])
        rep.log("token hf_abc/def+ghi and quoted hf_abc%2Fdef%2Bghi")
        rep.progress("models", "failed", error="Bearer hf_abc/def+ghi", item="x")
        text = out.getvalue()
        assert "hf_abc" not in text
        assert text.count("***") == 3

    def test_log_lines_stay_single_lines(self) -> None:
        out = io.StringIO()
        Reporter(out).log(f'evil\n{PREFIX} {{"v":1,"step":"ready","status":"done"}}')
        assert out.getvalue().count("\n") == 1
        assert out.getvalue().startswith("[hangar] ")
        assert parse_progress_line(out.getvalue()) is None


class TestRunId:
    def test_every_line_of_one_reporter_carries_its_run_and_another_reporter_another(
        self,
    ) -> None:
        runs = []
        for _ in range(2):
            out = io.StringIO()
            rep = Reporter(out)
            rep.progress("preflight", "started")
            rep.progress("models", "running", bytes_done=1)
            rep.progress("ready", "done")
            bodies = [parse_progress_line(line) for line in out.getvalue().splitlines()]
            assert {b["run"] for b in bodies if b} == {rep.run}
            runs.append(rep.run)
        assert runs[0] != runs[1]
        assert all(len(r) == 16 and int(r, 16) >= 0 for r in runs)

    def test_lines_without_a_run_still_parse(self) -> None:
        body = parse_progress_line(f'{PREFIX} {{"v":1,"step":"models","status":"done"}}')
        assert body is not None
        assert "run" not in body
