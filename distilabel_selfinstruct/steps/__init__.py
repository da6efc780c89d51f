"""One distilabel step per Self-Instruct stage."""

from distilabel_selfinstruct.steps.bootstrap import SelfInstructBootstrap
from distilabel_selfinstruct.steps.classification import ClassificationIdentification
from distilabel_selfinstruct.steps.exports import (
    CollectRejected,
    FinetuningFormats,
    FlattenInstances,
)
from distilabel_selfinstruct.steps.filters import InstanceFilter, InstructionFilter
from distilabel_selfinstruct.steps.instances import InstanceGeneration
from distilabel_selfinstruct.steps.load_seeds import LoadSeedTasks
from distilabel_selfinstruct.steps.proposal import InstructionProposal
from distilabel_selfinstruct.steps.review import SelfInstructToArgilla
from distilabel_selfinstruct.steps.similarity_filter import RougeSimilarityFilter

__all__ = [
    "ClassificationIdentification",
    "CollectRejected",
    "FinetuningFormats",
    "FlattenInstances",
    "InstanceFilter",
    "InstanceGeneration",
    "InstructionFilter",
    "InstructionProposal",
    "LoadSeedTasks",
    "RougeSimilarityFilter",
    "SelfInstructBootstrap",
    "SelfInstructToArgilla",
]
