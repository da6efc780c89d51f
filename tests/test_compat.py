"""Every private name of distilabel and llama-cpp-python that `_compat.py` uses still exists
and still means what it did (distilabel 1.5.3, llama-cpp-python 0.3.x). A failure names the
symbol that an upgrade moved."""

import inspect
from pathlib import Path

import distilabel
import pytest
from distilabel.pipeline import Pipeline as DistilabelPipeline
from distilabel.pipeline.base import BasePipeline
from distilabel.pipeline.batch import _Batch
from distilabel.pipeline.batch_manager import _BatchManager, _BatchManagerStep

from distilabel_selfinstruct import _compat

DISTILABEL_SOURCE = Path(distilabel.__file__).parent


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (BasePipeline, "_manage_batch_flow"),
        (BasePipeline, "_send_batch_to_step"),
        (DistilabelPipeline, "_run_step"),
        (_BatchManager, "get_last_batch_sent"),
        (_BatchManagerStep, "_get_seq_no"),
    ],
)
def test_the_overridden_and_called_methods_exist(owner, name):
    assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name} moved"


def test_the_batch_manager_step_keeps_its_buffers_where_the_fix_reads_them():
    fields = {field for field in _BatchManagerStep.__dataclass_fields__}
    for name in ("data", "last_batch_received", "built_batches", "accumulate", "seq_no"):
        assert name in fields, f"_BatchManagerStep.{name} moved"
    assert "_steps" in inspect.getsource(_BatchManager.__init__), "_BatchManager._steps moved"
    batch = _Batch(seq_no=0, step_name="s", last_batch=True, data=[[]], accumulated=False)
    assert batch.last_batch and batch.data == [[]]


def test_the_local_pipeline_submits_steps_through_its_pool():
    source = inspect.getsource(DistilabelPipeline._run_step)
    assert "self._pool.apply_async(" in source, "Pipeline._run_step no longer uses apply_async"


# For each pattern: a message as distilabel logs it, and the fragment of its source text.
LOGGED = {
    "batch_failed": ("⚠️ Processing batch 3 with step 'scorer' failed. Sending empty batch",
                     "with step '{self.step.name}' failed"),
    "traceback": ("Subprocess traceback:\n\nTraceback ...\nValueError: boom",
                  'f"Subprocess traceback:'),
    "load_failed": ("❌ Failed to load step 'scorer': Step load failed: boom",
                    "Failed to load step '{e.step.name}': {e.message}"),
    "unhandled": ("❌ Failed with an unhandled exception: boom",
                  "Failed with an unhandled exception: {e}"),
    "global_failed": ("An error occurred in global step 'rejected'",
                      "An error occurred in global step '{step_name}'"),
    "step_working": ("📦 Processing batch 0 in 'scorer' (replica ID: 0)",
                     "Processing batch {batch.seq_no} in '{batch.step_name}'"),
    "step_finished": ("🏁 Finished running step 'scorer' (replica ID: 0)",
                      "Finished running step '{self.step.name}'"),
    "batch_sent": ("📨 Step 'scorer' sending batch 2 to output queue",
                   "Step '{batch.step_name}' sending batch {batch.seq_no} to output queue"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LOGGED))
def test_each_log_pattern_matches_a_message_distilabel_still_writes(name):
    message, fragment = LOGGED[name]
    assert _compat.DISTILABEL_LOG_PATTERNS[name].search(message), name
    sources = "".join(
        path.read_text(encoding="utf-8") for path in (DISTILABEL_SOURCE / "pipeline").glob("*.py")
    )
    assert fragment in sources, f"distilabel no longer logs {fragment!r} ({name})"


def test_every_pattern_is_checked():
    assert set(_compat.DISTILABEL_LOG_PATTERNS) - set(LOGGED) == {"step_failed"}


def test_llama_model_params_override_sets_and_restores_the_field():
    bindings = pytest.importorskip("llama_cpp.llama_cpp")
    assert "use_extra_bufts" in dict(bindings.llama_model_params._fields_), (
        "llama_model_params.use_extra_bufts moved"
    )
    before = bindings.llama_model_default_params
    with _compat.llama_model_params_override(use_extra_bufts=False):
        assert bindings.llama_model_default_params().use_extra_bufts is False
    assert bindings.llama_model_default_params is before
    assert bindings.llama_model_default_params().use_extra_bufts is True
