"""A pull's bytes as one status line (ask and chat pulling a missing model)."""

from __future__ import annotations

from zero_llm.cli.progress import PullStatus, pull_status_text
from zero_llm.ollama.client import PullProgress

LAYER = "sha256:667b0c1932bc6ffc593ed1d03f895bf2dc8dc6df21db3042284a6f4416b06a29"


def test_a_layer_is_a_bar_with_bytes_done_of_its_total() -> None:
    half = pull_status_text(
        "llama3.1:8b", PullProgress("pulling", LAYER, 4_900_000_000, 2_450_000_000)
    )
    assert half == f"pulling llama3.1:8b 667b0c1932bc {'█' * 12}{'░' * 12} 2.5/4.9 GB 50%"
    small = pull_status_text("llama3.1:8b", PullProgress("pulling", LAYER, 148, 148))
    assert small.endswith(f"{'█' * 24} 148/148 bytes 100%")
    assert pull_status_text("x", PullProgress("pulling", LAYER, 1_500, 0)).endswith("0.0/1.5 kB 0%")


def test_a_step_without_bytes_is_its_status() -> None:
    step = PullProgress("verifying sha256 digest")
    assert pull_status_text("llama3.1:8b", step) == "pulling llama3.1:8b: verifying sha256 digest"


class Lines:
    def __init__(self) -> None:
        self.shown: list[str | None] = []

    def status(self, text: str | None) -> None:
        self.shown.append(text)


def test_steps_are_drawn_at_most_every_interval_but_a_finished_layer_always() -> None:
    sink = Lines()
    draw = PullStatus("m", sink, interval=60.0)
    draw(PullProgress("pulling manifest"))
    draw(PullProgress("pulling", LAYER, 1_000_000, 10))  # too soon: skipped
    draw(PullProgress("pulling", LAYER, 1_000_000, 1_000_000))  # finished: drawn
    draw(PullProgress("pulling", LAYER, 1_000_000, 1_000_000))  # the same line: skipped
    assert sink.shown == [
        "pulling m: pulling manifest",
        f"pulling m 667b0c1932bc {'█' * 24} 1.0/1.0 MB 100%",
    ]
