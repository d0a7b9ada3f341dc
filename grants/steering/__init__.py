"""Steering groups (styrgrupper) and who sits on them: reference data that calls point to and
that the approvals feature decides with."""
