"""The student view (see :mod:`desktop.student.panel`)."""
