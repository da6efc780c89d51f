"""What the command-line jobs share."""

import warnings

__all__ = ["quiet_import_warnings"]


def quiet_import_warnings() -> None:
    """Silences the warnings distilabel 1.5.3's own declarations raise on every import
    (pydantic's); they say nothing about the run. Called by each job's `main`, never at
    import, so that importing the package changes no warning filter.
    """
    from pydantic.warnings import UnsupportedFieldAttributeWarning

    warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)
    warnings.filterwarnings("ignore", message="A custom validator is returning a value other than")
