"""The output directory rules, the run lock (across processes) and the final move."""

import subprocess
import sys

import pytest

from distilabel_selfinstruct.output_dir import (
    DATASET_MARKER,
    OutputDirError,
    RunLock,
    check_output_dir,
    make_portable,
    publish_dataset,
)


def dataset(path):
    (path / DATASET_MARKER).parent.mkdir(parents=True)
    (path / DATASET_MARKER).write_text("{}")
    (path / "instructions").mkdir()
    return path


def test_new_empty_and_own_datasets_are_told_apart(tmp_path):
    assert check_output_dir(tmp_path / "new") == "new"
    (tmp_path / "empty").mkdir()
    assert check_output_dir(tmp_path / "empty") == "empty"
    earlier = dataset(tmp_path / "earlier")
    with pytest.raises(OutputDirError, match="pass --overwrite to replace it"):
        check_output_dir(earlier)
    assert check_output_dir(earlier, overwrite=True) == "dataset"


def test_the_lock_is_held_across_processes_and_released_on_exit(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from distilabel_selfinstruct.output_dir import "
         f"RunLock; lock = RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputDirError, match=rf"another run \(process {holder.pid}, started"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    RunLock(tmp_path).acquire().release()  # the kernel released it with the process


def test_publishing_replaces_only_what_it_may(tmp_path):
    source = dataset(tmp_path / "partial")
    output = tmp_path / "out"
    output.mkdir()
    (output / "late.txt").write_text("written during the run")
    with pytest.raises(OutputDirError, match=f"the finished dataset is in {source}"):
        publish_dataset(source, output, overwrite=True)
    assert (output / "late.txt").exists() and source.exists()
    (output / "late.txt").unlink()
    publish_dataset(source, output, overwrite=False)
    assert (output / DATASET_MARKER).exists() and not source.exists()
    again = dataset(tmp_path / "partial")
    publish_dataset(again, output, overwrite=True)
    assert not (tmp_path / "partial.previous").exists()


def test_saved_configuration_and_log_hold_no_machine_path(tmp_path):
    folder = tmp_path / "distiset_configs"
    folder.mkdir()
    (folder / "pipeline.yaml").write_text(
        "pipeline:\n  steps:\n  - step:\n      llm:\n"
        f"        journal_dir: {tmp_path}/work/journal\n        model_path: {tmp_path}/m.gguf\n"
        f"      source: {tmp_path}/seeds.jsonl\n      other: relative/path\n"
    )
    (folder / "pipeline.log").write_text(f"replayed from {tmp_path}/work/journal\n")
    make_portable(folder, {str(tmp_path / "work"): "<work-dir>"})
    text = (folder / "pipeline.yaml").read_text() + (folder / "pipeline.log").read_text()
    assert str(tmp_path) not in text
    assert "journal_dir: null" in text and "model_path: m.gguf" in text
    assert "source: seeds.jsonl" in text and "other: relative/path" in text
    assert "replayed from <work-dir>/journal" in text
