"""Dispatch policies (派单策略) and patrol route strategies, registered by name."""

from govsim.policies.base import POLICIES, DispatchPolicy, NoParams, register_policy
from govsim.policies.routes import ROUTES, PatrolRoute, register_route
from govsim.policies.hotline import HotlineCentre
from govsim.policies.smart import SmartDispatch
from govsim.policies.traditional import TraditionalPatrol

__all__ = [
    "POLICIES", "ROUTES", "DispatchPolicy", "HotlineCentre", "NoParams", "PatrolRoute", "SmartDispatch",
    "TraditionalPatrol", "register_policy", "register_route",
]
