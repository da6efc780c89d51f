"""The main job's command line: options, defaults and refusals before any generation (the
full run is covered by `tests/test_pipeline.py` and the other `test_self_instruct_*` files).
The job's `main` runs in this process.
"""

import pytest

from distilabel_selfinstruct.cli.run import main


def run_main(capsys, *arguments):
    try:
        status = main([str(argument) for argument in arguments])
    except SystemExit as exit:  # argparse's --help
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_help_documents_every_option(capsys):
    status, out, _ = run_main(capsys, "--help")
    assert status == 0
    for option in ("--seeds", "--num-instructions", "--num-prompts", "--max-rounds",
                   "--max-generated-tokens", "--threshold", "--seed", "--model-path",
                   "--base-url", "--model", "--mode", "--output-dir", "--work-dir",
                   "--restart", "--overwrite", "--stall-timeout", "--ray", "--ray-address",
                   "--report", "--push-to-hub",
                   "--private"):  # fmt: skip
        assert f"  {option} " in out or f"  {option}\n" in out, option
    assert "(default: 100)" in out and "OPENAI_API_KEY" in out


def test_a_server_needs_a_model_name(capsys):
    status, _, err = run_main(capsys, "--base-url", "http://127.0.0.1:9/v1")
    assert status == 2 and "--base-url needs --model" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--model-path", "x.gguf"],
         "give --base-url or --model-path, not both"),
        (["--num-instructions", "0"], "--num-instructions must be at least 1"),
    ],
)  # fmt: skip
def test_contradictory_or_empty_requests_are_refused(arguments, message, tmp_path, capsys):
    status, _, err = run_main(capsys, *arguments, "--output-dir", tmp_path / "out")
    assert status == 2 and message in err
    assert not (tmp_path / "out").exists()


def test_bad_seed_file_fails_before_any_generation(tmp_path, capsys):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"instruction": "Say hi.", "instances": []}\n', encoding="utf-8")
    status, _, err = run_main(capsys, "--seeds", seeds, "--output-dir", tmp_path / "out")
    assert status == 2
    assert err.startswith("error: 2 problem(s) in seed tasks from")
    assert "line 1, field 'instances': empty" in err
    assert "line 1, field 'is_classification': missing" in err


def test_the_installed_command_runs_every_job():
    """`pip install` puts `distilabel-selfinstruct` on the PATH (a console script); `python -m
    distilabel_selfinstruct` is the same command. (Each job's options are tested through
    its `main` in this process; one job through the installed command is enough here.)"""
    import shutil
    import subprocess
    import sys

    command = shutil.which("distilabel-selfinstruct")
    assert command, "the console script is not installed"
    run = subprocess.run([command, "review", "--help"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "usage: distilabel-selfinstruct review" in run.stdout
    module = subprocess.run(
        [sys.executable, "-m", "distilabel_selfinstruct", "nope"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert module.returncode == 2 and "unknown job 'nope'" in module.stderr


def test_a_dry_run_prints_the_plan_and_generates_nothing(tmp_path, capsys):
    """Against a server that is never contacted (nothing listens there): the plan needs no
    request, and its tokens are an estimate from the real prompts."""
    output = tmp_path / "out"
    status, out, err = run_main(
        capsys, "--dry-run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
        "--num-instructions", "10", "--num-prompts", "2", "--price-per-1k-tokens", "0.5",
        "--output-dir", output,
    )  # fmt: skip
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "dry run: nothing was generated"
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    assert rows["bootstrap"][2] == "4"  # 10 kept at 2.5 per prompt, rounds of 2
    assert rows["classification_identification"][2] == "10"
    assert rows["instance_generation"][2] == "12"  # with the retries' share
    assert all(int(row[3].replace(",", "")) > 0 for row in rows.values())
    assert lines[6].startswith("cost at 0.5 per 1K tokens: at most ")
    assert "an estimate (4 characters per token)" in lines[7]
    assert not output.exists() and not (tmp_path / ".out.work").exists()


@pytest.mark.e2e
def test_quiet_prints_only_the_summary_and_keeps_the_log(tmp_path):
    """A whole run (on the scripted server), so `e2e`: with --quiet, stdout holds the
    summary and where the dataset is, stderr nothing; distilabel's log is in the work
    folder."""
    from tests.pipelines.test_self_instruct_failures import SMALL, job
    from tests.support.openai_server import ScriptedServer

    with ScriptedServer() as server:
        output = tmp_path / "out"
        run = job(*SMALL, "--quiet", "--base-url", server.url("script"), "--model", "m",
                  "--output-dir", output)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0].startswith("instructions kept") and lines[-1].startswith("saved to ")
    assert len(lines) < 25
    assert "Processing batch" in (tmp_path / ".out.work" / "run" / "console.log").read_text()
