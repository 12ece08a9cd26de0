"""The admin-API fixture, shared with tests/proxy/admin."""

from tests.proxy.admin.conftest import admin_proxy

__all__ = ["admin_proxy"]
