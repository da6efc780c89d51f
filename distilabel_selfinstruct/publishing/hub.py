"""Publishing a saved Self-Instruct dataset to the Hugging Face Hub, with its card."""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import CommitOperationAdd, DatasetCard, DatasetCardData, HfApi, get_token

from distilabel_selfinstruct.constants import CARD_FOLDER, RUN_SUMMARY_FILE
from distilabel_selfinstruct.publishing.card import write_report

__all__ = ["HubPushError", "push_to_hub"]


class HubPushError(RuntimeError):
    """The dataset could not be pushed; the local copy is intact and the push can be retried."""


def push_to_hub(
    dataset_dir: str | os.PathLike[str],
    repo_id: str,
    private: bool = False,
    token: str | None = None,
) -> str:
    """Pushes every config of a saved dataset to the Hub dataset repository `repo_id`,
    with `pipeline.yaml`, the artifacts, the dataset card and its figures.

    The card is written locally first (see `write_report`), then the configs are pushed
    with `Distiset.push_to_hub` (one parquet config each: `datasets` writes their YAML),
    then one commit adds the card, with that YAML kept and ours merged in, the figures,
    `pipeline.yaml` and the run summary. Pushing again updates the same repository.

    The token is `token`, else `HF_TOKEN` or the one saved by `hf auth login`; it is never
    written to the card, the logs or `pipeline.yaml`.

    Returns:
        The dataset's URL.

    Raises:
        HubPushError: no token, or the Hub refused or failed a request (the message says
            which); nothing local is lost, and the same call retries the push.

    Example (it needs a Hub account, so it is not run by the tests; they push to a local
    Hub server instead):

        from distilabel_selfinstruct import push_to_hub

        push_to_hub("output/self-instruct", "me/my-self-instruct", private=True)
    """
    from distilabel.distiset import Distiset

    token = token or get_token()
    if not token:
        raise HubPushError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login`, then push again"
        )
    root = Path(dataset_dir)
    readme = write_report(root, repo_id)
    folder = root / CARD_FOLDER
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        distiset = Distiset.load_from_disk(root)
        distiset.push_to_hub(repo_id, private=private, token=token, generate_card=False)
        api.create_commit(
            repo_id,
            _card_operations(repo_id, token, readme, folder),
            repo_type="dataset",
            commit_message="Self-Instruct dataset card, figures and pipeline",
        )
    except Exception as error:  # the Hub's errors come from several libraries
        raise HubPushError(
            f"pushing {root} to {repo_id} failed: {error}; the local dataset is intact,"
            " run the same push again to retry"
        ) from error
    return f"{api.endpoint}/datasets/{repo_id}"


def _card_operations(
    repo_id: str, token: str, readme: Path, folder: Path
) -> list[CommitOperationAdd]:
    """The card (our YAML merged into what `datasets` wrote when it pushed the configs), its
    figures, `pipeline.yaml` and the run summary, as one commit's files."""
    pushed = DatasetCard.load(repo_id, repo_type="dataset", token=token)
    ours = DatasetCard(readme.read_text(encoding="utf-8"))
    merged = {**pushed.data.to_dict(), **ours.data.to_dict()}
    card = DatasetCard(f"---\n{DatasetCardData(**merged).to_yaml()}\n---\n{ours.text}")
    operations = [CommitOperationAdd("README.md", str(card).encode("utf-8"))]
    operations += [
        CommitOperationAdd(f"figures/{path.name}", path)
        for path in sorted((folder / "figures").glob("*.png"))
    ]
    for name in ("pipeline.yaml", RUN_SUMMARY_FILE):
        if (folder / name).exists():
            operations.append(CommitOperationAdd(name, folder / name))
    return operations
