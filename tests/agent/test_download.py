"""Downloader against the local hub: ranges, redirects, token scoping, faults, resume."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
from pathlib import Path

import pytest

from comfyhangar.agent.diskstate import valid_segments
from comfyhangar.agent.download import PART, Downloader, DownloadOptions
from comfyhangar.agent.httpget import HttpError
from comfyhangar.agent.manifest import ModelSpec
from comfyhangar.agent.protocol import Reporter, parse_progress_line
from comfyhangar.agent.published import (
    Published,
    from_civitai_version,
    from_hf_headers,
    normalize_etag,
)
from comfyhangar.agent.sources import Sources
from tests.agent.fakehub import FakeHub


@pytest.fixture
def hub() -> FakeHub:
    with FakeHub() as h:
        yield h


def _run(
    hub: FakeHub, tmp_path: Path, models: list[ModelSpec], **opts: object
) -> tuple[list[str], str]:
    out = io.StringIO()
    rep = Reporter(out, secrets=[hub.token, hub.civitai_token])
    src = Sources(
        hf_endpoint=hub.hub_url, civitai_endpoint=hub.hub_url,
        hf_token=hub.token, civitai_token=hub.civitai_token,
    )  # fmt: skip
    options = DownloadOptions(allow_http=True, segment_size=1 << 20, backoff_s=0.01, connections=4)
    for key, value in opts.items():
        setattr(options, key, value)
    failed = Downloader(rep, src, tmp_path / "state", options).run(models, tmp_path / "models")
    return failed, out.getvalue()


def _hf(name: str, data: bytes, **kw: object) -> ModelSpec:
    return ModelSpec(
        name=name, folder="checkpoints", kind="huggingface", repo="org/repo", file=name,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestDownloader:
    def test_segmented_download_with_redirect_and_token_scoping(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = os.urandom(5 * (1 << 20) + 123)
        hub.add_hf("org/repo", "big.safetensors", data, gated=True)
        hub.add_civitai(42, b"civitai-bytes" * 1000, gated=True)
        civ = ModelSpec(name="c.safetensors", folder="loras", kind="civitai", version_id=42)
        failed, out = _run(hub, tmp_path, [_hf("big.safetensors", data), civ])
        assert failed == []
        assert (
            _sha(tmp_path / "models/checkpoints/big.safetensors")
            == hashlib.sha256(data).hexdigest()
        )
        assert (tmp_path / "models/loras/c.safetensors").read_bytes() == b"civitai-bytes" * 1000
        assert hub.header_values("cdn", "authorization") == []
        assert set(hub.header_values("hub", "authorization")) == {
            f"Bearer {hub.token}", f"Bearer {hub.civitai_token}",
        }  # fmt: skip
        assert hub.token not in out
        assert hub.civitai_token not in out
        assert hub.served["org/repo/big.safetensors"] <= len(data) + 100
        lines = [p for p in map(parse_progress_line, out.splitlines()) if p]
        assert any(p["status"] == "running" and "bytes_total" in p for p in lines)
        assert {p.get("item") for p in lines if p["status"] == "done"} == {
            "big.safetensors", "c.safetensors",
        }  # fmt: skip
        assert not list((tmp_path / "models").rglob(f"*{PART}*"))

    def test_parallel_within_and_across_files(self, hub: FakeHub, tmp_path: Path) -> None:
        big, small = os.urandom(4 << 20), os.urandom(100_000)
        hub.add_hf("org/repo", "big.bin", big)
        hub.add_hf("org/repo", "small.bin", small)
        hub.throttle_bps = 2_000_000
        failed, out = _run(hub, tmp_path, [_hf("big.bin", big), _hf("small.bin", small)])
        assert failed == []
        assert hub.max_active >= 4  # four throttled streams at once (the speed-up is in bench/)
        ranges = hub.header_values("cdn", "range")
        assert len([r for r in ranges if r != "bytes=0-0"]) >= 5  # 4 segments + the small file
        lines = [p for p in map(parse_progress_line, out.splitlines()) if p]
        running = [p for p in lines if p["status"] == "running" and "speed_bps" in p]
        assert running
        assert running[-1]["speed_bps"] > 0

    def test_second_run_skips_complete_files_without_network(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = b"x" * 3000
        hub.add_hf("org/repo", "a.bin", data)
        assert _run(hub, tmp_path, [_hf("a.bin", data)])[0] == []
        hub.requests.clear()
        failed, out = _run(hub, tmp_path, [_hf("a.bin", data)])
        assert failed == []
        assert hub.requests == []
        assert '"status":"skipped"' in out

    def test_faults_are_retried(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(3 * (1 << 20))
        hub.add_hf("org/repo", "f.bin", data, faults=["500", "reset", "truncate", "429", "reset"])
        failed, out = _run(hub, tmp_path, [_hf("f.bin", data)])
        assert failed == [], out
        assert _sha(tmp_path / "models/checkpoints/f.bin") == hashlib.sha256(data).hexdigest()

    def test_corrupt_once_is_downloaded_again(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(3 << 20)
        hub.add_hf("org/repo", "c.bin", data, faults=["ok", "corrupt"])
        failed, out = _run(hub, tmp_path, [_hf("c.bin", data)])
        assert failed == [], out
        assert "downloading again: c.bin" in out
        assert _sha(tmp_path / "models/checkpoints/c.bin") == hashlib.sha256(data).hexdigest()

    def test_file_changed_on_server_discards_the_part(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(2 << 20)
        hub.add_hf("org/repo", "ch.bin", data)
        spec = dataclasses.replace(_hf("ch.bin", data), size=None)
        part = tmp_path / "models/checkpoints" / ("ch.bin" + PART)
        part.parent.mkdir(parents=True)
        part.write_bytes(b"\0" * (3 << 20))
        url = f"{hub.hub_url}/org/repo/resolve/main/ch.bin"
        state = {"url": url, "size": 3 << 20, "ranged": True, "segments": [[0, 3 << 20, 1 << 20]]}
        Path(str(part) + ".json").write_text(json.dumps(state))
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == ["ch.bin"]
        assert "changed on the server" in out
        assert not part.exists()
        assert _run(hub, tmp_path, [spec])[0] == []

    def test_wrong_checksum_fails_and_leaves_no_file(self, hub: FakeHub, tmp_path: Path) -> None:
        data = b"y" * 5000
        hub.add_hf("org/repo", "bad.bin", data, faults=["ok", "corrupt", "ok", "corrupt"])
        hub.ranges = False
        failed, out = _run(hub, tmp_path, [_hf("bad.bin", data)])
        assert failed == ["bad.bin"]
        assert "sha256" in out
        assert not (tmp_path / "models/checkpoints/bad.bin").exists()
        assert _run(hub, tmp_path, [_hf("bad.bin", data)])[0] == []

    def test_gated_without_token_names_the_model(self, hub: FakeHub, tmp_path: Path) -> None:
        hub.add_hf("org/repo", "gated.bin", b"z" * 100, gated=True)
        out = io.StringIO()
        src = Sources(hf_endpoint=hub.hub_url)
        opts = DownloadOptions(allow_http=True, backoff_s=0.01)
        failed = Downloader(Reporter(out), src, tmp_path / "s", opts).run(
            [_hf("gated.bin", b"z" * 100)], tmp_path / "models"
        )
        assert failed == ["gated.bin"]
        assert "HF_TOKEN" in out.getvalue()

    def test_resume_from_state_file(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(4 * (1 << 20))
        hub.add_hf("org/repo", "r.bin", data)
        spec = _hf("r.bin", data)
        first, _ = _run(hub, tmp_path, [spec], connections=1, retries=0, segment_size=1 << 20)
        assert first == []
        # Simulate an interruption: turn the finished file back into a half-done part.
        final = tmp_path / "models/checkpoints/r.bin"
        part = final.with_name("r.bin" + PART)
        os.replace(final, part)
        (tmp_path / "state/models.json").unlink()
        url = f"{hub.hub_url}/org/repo/resolve/main/r.bin"
        segs = [[i << 20, (i + 1) << 20, (1 << 20) if i < 2 else 0] for i in range(4)]
        state = {"url": url, "size": len(data), "ranged": True, "segments": segs}
        part.with_name(part.name + ".json").write_text(json.dumps(state))
        hub.served.clear()
        assert _run(hub, tmp_path, [spec])[0] == []
        assert hub.served["org/repo/r.bin"] == 2 << 20
        assert _sha(final) == hashlib.sha256(data).hexdigest()

    def test_server_without_ranges(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(2 << 20)
        hub.add_hf("org/repo", "n.bin", data, faults=["truncate"])
        hub.ranges = False
        assert _run(hub, tmp_path, [_hf("n.bin", data)])[0] == []
        assert _sha(tmp_path / "models/checkpoints/n.bin") == hashlib.sha256(data).hexdigest()


MIB = 1 << 20
FAULTY_SIZE = 3 * MIB + 12345
RESUME = re.compile(r"bytes=[1-9]\d*-")  # "the rest from byte N", as a file without ranges asks
DROPS = [1, MIB - 1, MIB, 2 * MIB + 7, FAULTY_SIZE - 1]  # in a segment, at its edges, the last byte

# name: (hub.ranges, hub.framing, faults of the first requests: the probe, then the fetches)
SERVERS = {
    "ranges": (True, "length", []),
    "ranges-ignored": (False, "length", []),
    "chunked-with-ranges": (True, "chunked", []),
    "chunked-ranges-ignored": (False, "chunked", []),
    "no-length-ranges-ignored": (False, "close", []),
    "probe-ranges-then-ignored": (False, "length", ["ranges-on"]),
    "probe-no-ranges-then-honoured": (True, "length", ["ranges-off"]),
    "ignores-ranges-once": (True, "length", ["ok", "ok", "ranges-off"]),
}


class TestFaultyServers:
    """Connection drops at several offsets against every kind of server: the file comes out
    byte for byte whether the server resumes (ranges) or must be read again from the start."""

    @pytest.mark.parametrize("server", SERVERS)
    @pytest.mark.parametrize("connections", [1, 4])
    def test_drops_at_several_offsets(
        self, server: str, connections: int, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = os.urandom(FAULTY_SIZE)
        hub.ranges, hub.framing, faults = SERVERS[server]
        hub.add_hf("org/repo", "m.bin", data, faults=list(faults), drops=list(DROPS))
        failed, out = _run(hub, tmp_path, [_hf("m.bin", data)], connections=connections)
        assert failed == [], out
        final = tmp_path / "models/checkpoints/m.bin"
        assert final.read_bytes() == data
        assert hub.files["org/repo/m.bin"].drops == []  # every drop happened
        if server in ("ranges", "chunked-with-ranges"):
            # resumed after each drop: reading again from 0 would serve 7 MiB for these drops
            assert hub.served["org/repo/m.bin"] < 2 * len(data)
        if server == "probe-no-ranges-then-honoured":  # the rest was asked for, not all again
            resumes = [r for r in hub.header_values("cdn", "range") if RESUME.fullmatch(r)]
            assert resumes

    def test_a_drop_before_any_byte_is_retried(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(MIB)
        hub.ranges = False
        hub.add_hf("org/repo", "z.bin", data, drops=[0, 0, 0])
        failed, out = _run(hub, tmp_path, [_hf("z.bin", data)])
        assert failed == [], out
        assert (tmp_path / "models/checkpoints/z.bin").read_bytes() == data


def _bare(spec: ModelSpec) -> ModelSpec:
    """`spec` without the manifest's size and sha256: only the source can say what it is."""
    return dataclasses.replace(spec, size=None, sha256=None)


def _body_requests(hub: FakeHub) -> list[str]:
    """The CDN requests that asked for more than the probe's one byte."""
    return [r for r in hub.header_values("cdn", "range") if r != "bytes=0-0"] + [
        path for role, path, h in hub.requests if role == "cdn" and "range" not in h
    ]


class TestPublishedSizeAndHash:
    """Without a size or sha256 in the manifest, the source's published values are checked."""

    def test_a_short_body_is_refused_by_hugging_faces_size(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = os.urandom(300_000)
        hub.add_hf("org/repo", "s.bin", data, cdn_data=data[:-1000])
        failed, out = _run(hub, tmp_path, [_bare(_hf("s.bin", data))])
        assert failed == ["s.bin"]
        assert (
            f"the server sends {len(data) - 1000} bytes; Hugging Face publishes {len(data)}" in out
        )
        assert _body_requests(hub) == []  # refused before any transfer
        assert not list((tmp_path / "models").rglob("s.bin*"))

    def test_a_wrong_body_is_refused_by_hugging_faces_sha256(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = os.urandom(300_000)
        hub.add_hf("org/repo", "w.bin", data, cdn_data=os.urandom(len(data)))
        failed, out = _run(hub, tmp_path, [_bare(_hf("w.bin", data))])
        assert failed == ["w.bin"]
        assert f"instead of {hashlib.sha256(data).hexdigest()}" in out
        assert "downloading again: w.bin" in out
        assert not list((tmp_path / "models").rglob("w.bin*"))

    def test_the_manifest_and_hugging_face_disagreeing_names_both(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data, other = os.urandom(5000), os.urandom(5000)
        hub.add_hf("org/repo", "d.bin", data)
        spec = dataclasses.replace(_hf("d.bin", data), sha256=hashlib.sha256(other).hexdigest())
        failed, out = _run(hub, tmp_path, [spec, dataclasses.replace(_hf("d.bin", data), size=7)])
        assert failed == ["d.bin", "d.bin"]
        sha, other_sha = hashlib.sha256(data).hexdigest(), hashlib.sha256(other).hexdigest()
        assert f"the manifest says {other_sha}, Hugging Face publishes {sha}" in out
        assert f"the manifest says 7 bytes, Hugging Face publishes {len(data)}" in out
        assert _body_requests(hub) == []

    def test_a_file_kept_in_git_is_checked_by_size_only(self, hub: FakeHub, tmp_path: Path) -> None:
        data = b'{"model_type": "test"}\n' * 100
        hub.add_hf("org/repo", "config.json", data, lfs=False)  # ETag: a git sha1, no sha256
        failed, out = _run(hub, tmp_path, [_bare(_hf("config.json", data))])
        assert failed == [], out
        assert (tmp_path / "models/checkpoints/config.json").read_bytes() == data

    def test_civitai_publishes_the_primary_files_sha256(self, hub: FakeHub, tmp_path: Path) -> None:
        data = os.urandom(200_000)
        hub.add_civitai(9, data, cdn_data=os.urandom(len(data)))
        spec = ModelSpec(name="c.safetensors", folder="loras", kind="civitai", version_id=9)
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == ["c.safetensors"]
        assert f"instead of {hashlib.sha256(data).hexdigest()}" in out
        assert [p for r, p, _ in hub.requests if r == "hub" and "model-versions" in p]
        hub.files["civitai/9"].cdn_data = None
        assert _run(hub, tmp_path, [spec])[0] == []
        assert (tmp_path / "models/loras/c.safetensors").read_bytes() == data

    def test_civitai_size_against_the_manifests(self, hub: FakeHub, tmp_path: Path) -> None:
        hub.add_civitai(10, os.urandom(100_000))
        spec = ModelSpec(name="c.bin", folder="loras", kind="civitai", version_id=10, size=150_000)
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == ["c.bin"]
        assert "the manifest says 150000 bytes, Civitai publishes about 97.66 KB" in out


class TestFilesInPlace:
    """A file from an earlier run is kept when it is the file; a damaged one is fetched again."""

    def _first(self, hub: FakeHub, tmp_path: Path) -> tuple[bytes, ModelSpec, Path]:
        data = os.urandom(2 * MIB + 5)
        hub.add_hf("org/repo", "k.bin", data)
        spec = _bare(_hf("k.bin", data))
        assert _run(hub, tmp_path, [spec])[0] == []
        hub.requests.clear()
        hub.served.clear()
        return data, spec, tmp_path / "models/checkpoints/k.bin"

    def test_a_start_after_a_stop_downloads_nothing(self, hub: FakeHub, tmp_path: Path) -> None:
        _, spec, _ = self._first(hub, tmp_path)
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == []
        assert hub.requests == []  # the registry vouches for it: not even a probe
        assert '"status":"skipped","item":"k.bin","message":"already present"' in out

    def test_a_file_the_registry_does_not_know_is_checked_and_kept(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data, spec, final = self._first(hub, tmp_path)
        (tmp_path / "state/models.json").unlink()  # a volume from elsewhere, say
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == []
        assert _body_requests(hub) == []
        assert "already present" in out
        assert final.read_bytes() == data

    def test_a_file_with_the_manifests_sha256_is_kept_when_the_source_is_unreachable(
        self, hub: FakeHub, tmp_path: Path
    ) -> None:
        data = os.urandom(5000)
        hub.add_hf("org/repo", "u.bin", data, gated=True)
        final = tmp_path / "models/checkpoints/u.bin"
        final.parent.mkdir(parents=True)
        final.write_bytes(data)  # on a volume from an earlier pod, no registry
        out = io.StringIO()
        downloader = Downloader(
            Reporter(out), Sources(hf_endpoint=hub.hub_url), tmp_path / "state",
            DownloadOptions(allow_http=True, backoff_s=0.01),
        )  # fmt: skip
        assert downloader.run([_hf("u.bin", data)], tmp_path / "models") == []  # no HF_TOKEN
        assert downloader.fetched == 0
        assert "the file in place has the manifest's sha256" in out.getvalue()
        assert final.read_bytes() == data

    @pytest.mark.parametrize("damage", ["truncated", "flipped"])
    def test_a_damaged_file_is_fetched_again(
        self, damage: str, hub: FakeHub, tmp_path: Path
    ) -> None:
        data, spec, final = self._first(hub, tmp_path)
        with final.open("r+b") as f:
            if damage == "truncated":
                f.truncate(MIB)
            else:
                f.seek(MIB)
                f.write(bytes([data[MIB] ^ 1]))
        failed, out = _run(hub, tmp_path, [spec])
        assert failed == [], out
        assert "does not match" in out
        assert final.read_bytes() == data
        assert _body_requests(hub)


class TestValidSegments:
    @pytest.mark.parametrize(
        ("segments", "ok"),
        [
            ([[0, 5, 0], [5, 10, 5]], True),
            ([[0, 10, 10]], True),
            ([[0, 5, 0]], False),  # does not reach the end
            ([[0, 5, 0], [6, 10, 0]], False),  # gap
            ([[0, 5, 6], [5, 10, 0]], False),  # more done than the segment holds
            ([[0, 5, -1], [5, 10, 0]], False),
            ([[0, 5, "0"], [5, 10, 0]], False),
            ([], False),
            ("nope", False),
        ],
    )
    def test_shapes(self, segments: object, ok: bool) -> None:
        assert valid_segments(segments, 10) is ok


class TestSources:
    def test_tokens_only_go_to_their_own_hosts(self) -> None:
        src = Sources(
            hf_endpoint="http://127.0.0.1:9001", civitai_endpoint="http://127.0.0.1:9002",
            hf_token="hf_t", civitai_token="civ_t",
        )  # fmt: skip
        hf = {"Authorization": "Bearer hf_t"}
        civ = {"Authorization": "Bearer civ_t"}
        assert src.auth_for("https://huggingface.co/a/b/resolve/main/c", "huggingface") == hf
        assert src.auth_for("https://hf.co/a", "huggingface") == hf
        assert src.auth_for("http://127.0.0.1:9001/a", "huggingface") == hf
        assert src.auth_for("https://huggingface.co/a", "url") == hf
        assert src.auth_for("https://civitai.com/api/download/models/1", "civitai") == civ
        assert src.auth_for("http://127.0.0.1:9002/x", "civitai") == civ
        for url, kind in [
            ("https://cdn-lfs.huggingface.co/x", "huggingface"),
            ("https://cas-bridge.xethub.hf.co/x", "huggingface"),
            ("https://huggingface.co.evil.example/x", "huggingface"),
            ("http://127.0.0.1:9003/x", "huggingface"),
            ("https://civitai.com/x", "huggingface"),
            ("https://huggingface.co/x", "civitai"),
            ("https://b2.civitai-delivery.example/x", "civitai"),
        ]:
            assert src.auth_for(url, kind) == {}, url

    @pytest.mark.parametrize("token", ["a b", "a\nb", " lead", "tab\t"])
    def test_tokens_with_whitespace_are_refused(self, token: str) -> None:
        with pytest.raises(ValueError, match="token"):
            Sources(hf_token=token)

    def test_urls_are_quoted(self) -> None:
        spec = ModelSpec(
            name="a b.bin", folder="vae", kind="huggingface", repo="o/r", file="sub/a b.bin",
            revision="v1.0",
        )  # fmt: skip
        assert Sources().url_for(spec) == "https://huggingface.co/o/r/resolve/v1.0/sub/a%20b.bin"

    def test_retry_after_is_read(self) -> None:
        class Resp:
            status, url = 503, "https://cdn.example/x"

            def header(self, name: str) -> str | None:
                return {"Retry-After": "7"}.get(name)

        spec = ModelSpec(name="x", folder="vae", kind="url", url="https://cdn.example/x")
        with pytest.raises(HttpError) as caught:
            Sources().check_response(Resp(), spec)  # type: ignore[arg-type]
        assert caught.value.retryable
        assert caught.value.retry_after == 7.0


class TestPublished:
    @pytest.mark.parametrize(
        ("etag", "clean"), [('"abc"', "abc"), ('W/"abc"', "abc"), ("abc", "abc"), (None, None)]
    )
    def test_etags_lose_weak_marker_and_quotes(self, etag: str | None, clean: str | None) -> None:
        assert normalize_etag(etag) == clean

    def test_hugging_face_headers(self) -> None:
        sha = "a" * 64
        hops = [
            {"location": "/renamed/repo/resolve/main/x"},  # a renamed repo's relative redirect
            {"x-linked-size": "42", "x-linked-etag": f'"{sha}"', "etag": '"other"'},
        ]
        assert from_hf_headers(hops) == Published("Hugging Face", size=42, sha256=sha)
        git_file = [{"etag": '"' + "b" * 40 + '"', "content-length": "1"}]
        assert from_hf_headers(git_file) is None

    @pytest.mark.parametrize(
        ("doc", "sha"),
        [
            ({"files": [{"type": "Training Data", "hashes": {"SHA256": "C" * 64}},
                        {"type": "Model", "hashes": {"SHA256": "D" * 64}}]}, "d" * 64),
            ({"files": [{"type": "Model", "hashes": {"SHA256": "E" * 64}},
                        {"primary": True, "hashes": {"SHA256": "F" * 64}}]}, "f" * 64),
            ({"files": [{"primary": True, "hashes": {"SHA256": "not hex"}}]}, None),
            ({"files": [{"primary": True, "hashes": None}]}, None),
        ],
    )  # fmt: skip
    def test_civitai_primary_file(self, doc: dict[str, object], sha: str | None) -> None:
        published = from_civitai_version(doc)
        assert published is not None
        assert published.sha256 == sha

    @pytest.mark.parametrize("doc", [None, [], {}, {"files": "x"}, {"files": [{"type": "VAE"}]}])
    def test_civitai_documents_without_a_model_file(self, doc: object) -> None:
        assert from_civitai_version(doc) is None
