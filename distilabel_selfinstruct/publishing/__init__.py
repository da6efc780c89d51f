"""Publishing a Self-Instruct dataset: its statistics and figures, its card, the push to the
Hugging Face Hub, and the human review in Argilla.
"""

from distilabel_selfinstruct.publishing.card import write_report
from distilabel_selfinstruct.publishing.hub import HubPushError, push_to_hub
from distilabel_selfinstruct.publishing.review import (
    ArgillaReviewError,
    ReviewOptions,
    ReviewResult,
    pull_reviews,
    push_for_review,
)

__all__ = [
    "ArgillaReviewError",
    "HubPushError",
    "ReviewOptions",
    "ReviewResult",
    "pull_reviews",
    "push_for_review",
    "push_to_hub",
    "write_report",
]
