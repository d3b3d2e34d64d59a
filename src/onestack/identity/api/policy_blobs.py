"""/v3/policies: Keystone's deprecated store of policy documents."""

from __future__ import annotations

from onestack.identity import schemas
from onestack.identity.api.crud import Ops, keystone_collection
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService


def _policies(s: IdentityService) -> Ops:
    p = s.policy_blobs
    return Ops(p.list, p.create, p.get, p.update, p.delete)


POLICIES = keystone_collection(
    "policy", "policies", schemas.PolicyCreate, schemas.PolicyUpdate, _policies, Views.policy,
    ("type",),
)  # fmt: skip
routes = POLICIES.routes()
