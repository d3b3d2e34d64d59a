"""Neutron's policy defaults, one rule per action."""

from __future__ import annotations

from onestack.common.policy import RuleDefault

RULES: tuple[RuleDefault, ...] = ()
