"""The card's figures: exact similarity to the seeds, PNG files, no backend chosen."""

import subprocess
import sys
from collections import Counter

from distilabel_selfinstruct.publishing.figures import (
    plot_lengths,
    plot_similarity_to_seeds,
    plot_verbs,
    similarity_to_seeds,
)


def test_similarity_to_seeds_is_exact_rouge(shared):
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    seeds = ["Tell me a joke.", "Translate the sentence into French.", "Add two numbers."]
    texts = ["Tell me a joke about cats.", "Translate this sentence to German.", "Sing."]
    expected = [max(scorer.score(seed, text)["rougeL"].fmeasure for seed in seeds)
                for text in texts]  # fmt: skip
    assert similarity_to_seeds(texts, seeds) == expected


def test_figures_are_png_files(tmp_path):
    paths = [
        plot_similarity_to_seeds([0.1, 0.5, 0.69], 0.7, tmp_path / "a.png"),
        plot_lengths([5, 8], [3], [1, 20], tmp_path / "b.png"),
        plot_verbs(Counter({("write", "story"): 3, ("give", None): 1}), tmp_path / "c.png"),
        plot_verbs(Counter(), tmp_path / "d.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_the_package_leaves_matplotlib_alone():
    """A user's own backend stays theirs: matplotlib is not even imported with the package,
    and drawing a figure does not switch the backend either."""
    code = (
        "import sys, distilabel_selfinstruct\n"
        "print('matplotlib' in sys.modules)\n"
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "from collections import Counter\n"
        "from distilabel_selfinstruct.publishing.figures import plot_verbs\n"
        "import tempfile, pathlib\n"
        "plot_verbs(Counter({('write', 'story'): 2}), pathlib.Path(tempfile.mkdtemp()) / 'v.png')\n"
        "print(matplotlib.get_backend())\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["False", "svg"]
