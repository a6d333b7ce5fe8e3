"""Evaluation of the AI pipeline against teacher-labelled evidence (see ``evaluate.py``)."""
