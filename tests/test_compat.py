"""Every private name of distilabel, argilla and llama-cpp-python that `_compat.py` uses
still exists and still means what it did (distilabel 1.5.3, argilla 2.8, llama-cpp-python
0.3.x). A failure names the symbol that an upgrade moved. `test_no_module_outside_compat_
uses_a_private_name` keeps them all in `_compat.py`."""

import ast
import inspect
from pathlib import Path

import distilabel
import pytest
from distilabel.models.llms import LlamaCppLLM, OpenAILLM
from distilabel.pipeline import Pipeline as DistilabelPipeline
from distilabel.pipeline.base import BasePipeline
from distilabel.pipeline.batch import _Batch
from distilabel.pipeline.batch_manager import _BatchManager, _BatchManagerStep

from distilabel_selfinstruct import LlamaCppCompletionLLM, _compat

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


def _private_attribute_names(cls):
    """Private attributes a pydantic model declares (and those of its bases)."""
    return set(getattr(cls, "__private_attributes__", {}))


@pytest.mark.parametrize(
    ("where", "exists"),
    [
        ("distilabel.steps.base._Step", lambda: __import__("distilabel.steps.base", fromlist=["_Step"])._Step),
        ("distilabel.steps.tasks.base._Task._format_outputs",
         lambda: __import__("distilabel.steps.tasks.base", fromlist=["_Task"])._Task._format_outputs),
        ("_Step._logger", lambda: "_logger" in _private_attribute_names(
            __import__("distilabel.steps.base", fromlist=["_Step"])._Step) or None),
        ("OpenAILLM._aclient", lambda: "_aclient" in _private_attribute_names(OpenAILLM) or None),
        ("OpenAILLM._get_llm_statistics", lambda: OpenAILLM._get_llm_statistics),
        ("OpenAILLM._generate_chat_completion", lambda: OpenAILLM._generate_chat_completion),
        ("LlamaCppLLM._model", lambda: "_model" in _private_attribute_names(LlamaCppLLM) or None),
        ("argilla._exceptions.ArgillaAPIError, UnauthorizedError",
         lambda: all(isinstance(error, type) for error in _compat.argilla_errors()) or None),
        ("llama_cpp.Llama._ctx, _batch", lambda: all(
            name in inspect.getsource(__import__("llama_cpp").Llama.__init__)
            for name in ("self._ctx", "self._batch")) or None),
    ],
)  # fmt: skip
def test_every_fenced_private_name_still_exists(where, exists):
    try:
        found = exists()
    except (AttributeError, ImportError) as error:
        pytest.fail(f"{where} moved: {error}")
    assert found is not None, f"{where} moved"


def test_the_per_generation_task_formats_each_generation_with_its_truncation():
    """distilabel's `_format_outputs` still calls `format_output` once per generation, and the
    earlier steps' metadata survives; mixins between the task and `_Task` still run their
    `model_post_init` (pydantic wraps `model_post_init` for private attributes)."""
    from pydantic import PrivateAttr

    class Mixin(_compat.StepBase):
        _seen: list = PrivateAttr(default_factory=list)

        def model_post_init(self, __context):
            super().model_post_init(__context)
            self._seen.append("mixin")

    class Echo(_compat.PerGenerationTask, Mixin):
        @property
        def inputs(self):
            return ["instruction"]

        @property
        def outputs(self):
            return ["text", "cut"]

        def format_input(self, input):
            return input["instruction"]

        def parse_generation(self, output, input, truncated):
            return {"text": output, "cut": truncated}

    llm = LlamaCppCompletionLLM(generation_kwargs={"max_new_tokens": 5})
    task = Echo(llm=llm, add_raw_input=False)
    assert task._seen == ["mixin"]
    outputs = {
        "generations": ["short", "cut off here"],
        "statistics": {"input_tokens": [3, 3], "output_tokens": [2, 5]},
    }
    row = {"instruction": "x", "distilabel_metadata": {"earlier": 1}}
    formatted = task.format_generations(outputs, row)
    assert [(item["text"], item["cut"]) for item in formatted] == [
        ("short", False),
        ("cut off here", True),
    ]
    assert all(item["distilabel_metadata"]["earlier"] == 1 for item in formatted)


_FENCED_LIBRARIES = ("distilabel", "argilla", "datasets", "huggingface_hub", "llama_cpp")
PACKAGE = Path(_compat.__file__).parent


def _own_private_names(trees):
    """The `_names` the package itself defines: functions, classes, assignments, fields."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return {name for name in names if name.startswith("_")} | _STANDARD_LIBRARY


# Private-looking names of the standard library that the package may use.
_STANDARD_LIBRARY = {"_exit"}  # os._exit: a child process ends without the model's teardown


def test_no_module_outside_compat_uses_a_private_name():
    """The fence: outside `_compat.py`, no import of a private module or name of distilabel,
    argilla, datasets, huggingface_hub or llama_cpp, and no `x._name` the package does not
    define itself."""
    paths = [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "pipelines").glob("*.py")]
    sources = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(paths)
        if path.name != "_compat.py"
    }
    own = _own_private_names(sources.values())
    found = []
    for path, tree in sources.items():
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                _FENCED_LIBRARIES
            ):
                modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                modules = []
            for module in modules:
                parts = module.split(".")
                if parts[0] in _FENCED_LIBRARIES and any(part.startswith("_") for part in parts):
                    found.append(f"{where}:{node.lineno} imports {module}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr not in own
            ):
                found.append(f"{where}:{node.lineno} uses .{node.attr}")
    assert not found, "private names outside _compat.py:\n" + "\n".join(found)
